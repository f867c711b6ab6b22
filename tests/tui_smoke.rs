//! `tui::run` end to end on a real (pseudo) terminal. Ignored by default: it needs a TTY and keys.
//! Run it with, for example:
//!
//! ```sh
//! cargo test --test tui_smoke --no-run
//! (sleep 3; printf 'd'; sleep 1; printf 'q') | script -qec "$(ls -t target/debug/deps/tui_smoke-* | grep -v '\.d$' | head -1) --ignored" /dev/null
//! ```

use std::time::Duration;

use voucherdeck::backend::Names;
use voucherdeck::embedded::Embedded;
use voucherdeck::pipeline::{Pipeline, PipelineConfig};
use voucherdeck::tui::{TuiOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a terminal and key presses (see the module docs)"]
async fn run_draws_and_quits_on_q() {
    let embedded = Embedded::new(Names::default());
    let pipeline = Pipeline::new(embedded.backend.clone(), PipelineConfig::default());
    pipeline.provision().await.expect("provision");
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = TuiOptions {
        log_dir: Some(dir.path().to_path_buf()),
        export_dir: Some(dir.path().to_path_buf()),
        ..TuiOptions::default()
    };
    tokio::time::timeout(Duration::from_secs(30), run(pipeline, opts))
        .await
        .expect("quit within 30 s")
        .expect("run ends cleanly");
    let log = std::fs::read_to_string(dir.path().join("voucherdeck.log")).expect("log file");
    assert!(log.contains("dashboard starting"), "{log}");
    assert!(log.contains("dashboard stopped"), "{log}");
}
