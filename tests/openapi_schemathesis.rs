//! The OpenAPI document against the server it describes: schemathesis (a property-based tester
//! driven by the document) sends generated valid and invalid requests to a server on the embedded
//! backend, with a gifter key and an operator key, and checks every answer with all its checks:
//! no server errors; statuses, media types, headers and bodies as documented; invalid data
//! refused, valid data accepted. Gifts must really be accepted: the run counts them.
//!
//! Schemathesis comes from `$VOUCHERDECK_SCHEMATHESIS`, else `./.venv/bin/st`, else `PATH`
//! (`scripts/test` installs it into `./.venv`).

#[path = "support/http.rs"]
mod http;

use std::path::{Path, PathBuf};
use std::process::Command;

use voucherdeck_api::{RunningServer, ServeConfig};
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::limits::{KEY_DAILY, KEY_PER_MINUTE};
use voucherdeck_core::domain::{KeySpec, Role};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{Pipeline, PipelineConfig};

/// The schemathesis version the project tests against (as `scripts/test` installs it).
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Generated cases per operation and mode, for each key: enough to reach every status the
/// document names, few enough for a short run on two cores.
const MAX_EXAMPLES: &str = "20";
const SEED: &str = "20261127";
/// One worker: the tester's generator is not safe across its worker threads (two of them once
/// ended a run with "inconsistent results" while generating a batch body), and one is faster here.
const WORKERS: &str = "1";

fn find_schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("VOUCHERDECK_SCHEMATHESIS").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "VOUCHERDECK_SCHEMATHESIS={} is not a file",
            p.display()
        );
        return p;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/st");
    if venv.is_file() {
        return venv;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("st");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "schemathesis not found (looked at $VOUCHERDECK_SCHEMATHESIS, {}, and PATH). This test runs \
         the real tester against the server: run `scripts/test` (which installs it), or install it \
         by hand with `python3 -m venv .venv && .venv/bin/pip install \
         'schemathesis=={SCHEMATHESIS_VERSION}'`",
        venv.display()
    );
}

async fn key(admin: &Pipeline, sender: &str, role: Role) -> String {
    admin
        .create_key(&KeySpec {
            sender: sender.into(),
            role,
            per_minute: *KEY_PER_MINUTE.end(),
            daily: *KEY_DAILY.end(),
        })
        .await
        .expect("key")
        .key
}

/// How the checks judge statuses: a body over the server's byte limit is refused with 413 whatever
/// its JSON (JSON Schema cannot bound a body's bytes), which is a refusal, not a failure.
const CONFIG: &str = r#"
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "413", "429", "5xx"]
"#;

/// One failure of a run: its check's code and its lines.
struct Failure {
    code: String,
    lines: Vec<String>,
    /// Past its own lines (the answer and how to reproduce it follow).
    closed: bool,
}

/// The failures a run's output lists (`- ST107 Missing required …` and the lines under it).
fn failures(text: &str) -> Vec<Failure> {
    let Some(section) = text.split("FAILURES").nth(1) else {
        return Vec::new();
    };
    let section = section.split("SUMMARY").next().unwrap_or(section);
    let mut out: Vec<Failure> = Vec::new();
    for line in section.lines() {
        let code = line.strip_prefix("- ST").and_then(|rest| rest.get(..3));
        if let Some(code) = code.filter(|c| c.bytes().all(|b| b.is_ascii_digit())) {
            out.push(Failure {
                code: format!("ST{code}"),
                lines: Vec::new(),
                closed: false,
            });
        } else if let Some(f) = out.last_mut().filter(|f| !f.closed) {
            if line.starts_with('[') || line.starts_with("Reproduce") {
                f.closed = true;
            } else {
                f.lines.push(line.to_string());
            }
        }
    }
    out
}

/// Runs schemathesis with every check against `schema` as `key`, in `phases`: its output; panics
/// with the output on any failure.
async fn schemathesis(st: &Path, schema: &str, key: &str, who: &str, phases: &str) -> String {
    let config = std::env::temp_dir().join(format!(
        "voucherdeck-schemathesis-{}-{who}.toml",
        std::process::id()
    ));
    std::fs::write(&config, CONFIG).expect("write the schemathesis config");
    let mut cmd = Command::new(st);
    cmd.arg("--config-file")
        .arg(&config)
        .args(["run", schema, "--checks", "all", "--phases", phases])
        .args([
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
            "--workers",
            WORKERS,
        ])
        .args(["--continue-on-failure", "--generation-database", "none"])
        .args(["--suppress-health-check", "all", "--no-color"])
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .env("NO_COLOR", "1")
        .env(
            "SCHEMATHESIS_HOOKS",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/schemathesis_hooks.py"
            ),
        )
        .current_dir(std::env::temp_dir());
    let name = st.display().to_string();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    let _ = std::fs::remove_file(&config);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let found = failures(&text);
    if let Some(f) = found.first() {
        panic!(
            "schemathesis found the server and its document disagree ({who} key, {}: {}):\n{text}",
            f.code,
            f.lines.join(" ").trim()
        );
    }
    assert!(
        out.status.success(),
        "schemathesis did not run to the end ({who} key):\n{text}"
    );
    text
}

/// The summary lines of a run (from its `SUMMARY` on).
fn summary(text: &str) -> &str {
    text.find("SUMMARY").map_or(text, |at| &text[at..])
}

/// A counter's value in the server's metrics text.
fn figure(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_what_the_server_does() {
    let st = find_schemathesis();
    let e = Embedded::new(Names::default());
    let admin = Pipeline::new(e.backend.clone(), PipelineConfig::default());
    admin.prepare_embedded().await.expect("prepare");
    let serve = ServeConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        per_ip_per_minute: 0,
        ..ServeConfig::default()
    };
    let server = RunningServer::start(admin.clone(), serve)
        .await
        .expect("server starts");
    let addr = server.addr();
    let gifter = key(&admin, "acme", Role::Gifter).await;
    let operator = key(&admin, "ops", Role::Operator).await;
    let schema = format!("http://{addr}/openapi.json");

    // Every phase with the operator key (it may do everything); the gifter's refusals (batches,
    // others' vouchers) show in generated cases, without the long boundary-value phase again.
    let runs = [
        ("operator", &operator, "examples,coverage,fuzzing,stateful"),
        ("gifter", &gifter, "examples,fuzzing,stateful"),
    ];
    for (who, k, phases) in runs {
        let text = schemathesis(&st, &schema, k, who, phases).await;
        println!("{who} key: {}", summary(&text));
    }

    let metrics = http::send(addr, "GET", "/metrics", &[], None).await;
    assert_eq!(metrics.status, 200);
    let accepted = figure(&metrics.body, "voucherdeck_api_gifts_accepted_total");
    println!("gifts accepted: {accepted}");
    assert!(
        accepted >= 10,
        "valid gifts must be accepted, not only refused: {accepted} accepted\n{}",
        metrics.body
    );
    server.stop().await.expect("stop");
}
