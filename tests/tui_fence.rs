//! The TUI's fences: it never touches the AWS SDK, and only `effects` (and `run`, which wires it)
//! reach the services; `App`, `update` and the views work on plain data. That data may be the
//! services' own types (`crate::pipeline::{DlqMessage, RedriveProgress}`…): importing those is fine,
//! holding a `Pipeline` or a service handle, or calling a service, is not.

use std::path::Path;

/// What only `effects.rs` and `run.rs` may mention: the services themselves, their handles, and their
/// calls.
const SERVICE_WORDS: &[&str] = &[
    "Pipeline",
    "ConsumerHandle",
    "RedriveHandle",
    ".start_consumer(",
    ".spawn_monitor(",
    ".peek_dlq(",
    ".delete_dlq(",
    ".gift(",
    ".gift_many(",
    ".start_redrive(",
    ".recent_failures(",
    ".depths(",
    ".ages(",
    ".provision(",
    ".open_queue(",
    ".backend()",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/tui") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn tui_stays_behind_its_fences() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(
        files.len() > 10,
        "found {} files under {}",
        files.len(),
        root.display()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let name = file
            .strip_prefix(&root)
            .expect("under src/tui")
            .to_string_lossy()
            .replace('\\', "/");
        assert!(!text.contains("aws_sdk_"), "{name} mentions the AWS SDK");
        assert!(
            !text.contains("crate::aws"),
            "{name} reaches the AWS adapters"
        );
        assert!(
            !text.contains("crate::embedded"),
            "{name} reaches the embedded backend"
        );
        if !matches!(name.as_str(), "effects.rs" | "run.rs") {
            for word in SERVICE_WORDS {
                assert!(
                    !text.contains(word),
                    "{name} reaches the services ({word}); only effects.rs may"
                );
            }
        }
        // Nothing may print to stdout while the terminal is in raw mode (run.rs reports the log path
        // on stderr, after the terminal is restored).
        let stdout_text = text.replace("eprintln!", "").replace("eprint!(", "");
        for bad in ["println!", "print!(", "dbg!("] {
            assert!(
                !stdout_text.contains(bad),
                "{name} prints to stdout ({bad})"
            );
        }
    }
}
