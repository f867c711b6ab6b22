//! Keeps the architecture's fences honest where Rust's privacy cannot: the core knows nothing of
//! terminals, the dashboard reaches AWS only through the services, and the domain does no I/O.
//! (What privacy can say, it says: the services' internals, the adapters' SDK plumbing and the
//! engines' state are private modules; each layer shows its surface as re-exports at its root.)

use std::path::{Path, PathBuf};

/// Every `.rs` file at or under `path` (a file or a folder).
fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    for entry in std::fs::read_dir(path).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Files under `under` (paths relative to `src/`) whose code (not comments) names a forbidden word.
fn offenders(under: &[&str], forbidden: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for part in under {
        let mut files = Vec::new();
        rust_files(&src.join(part), &mut files);
        assert!(!files.is_empty(), "nothing found at src/{part}");
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read");
            for word in forbidden {
                if text
                    .lines()
                    .any(|l| !l.trim_start().starts_with("//") && l.contains(word))
                {
                    found.push(format!("{} uses {word}", f.display()));
                }
            }
        }
    }
    found
}

#[test]
fn core_has_no_terminal_code() {
    let bad = offenders(
        &[
            "domain",
            "ports",
            "backend.rs",
            "embedded",
            "aws",
            "pipeline",
        ],
        &["ratatui", "crossterm"],
    );
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn dashboard_never_touches_the_sdk() {
    let bad = offenders(&["tui"], &["aws_sdk_", "aws_config", "aws_smithy"]);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn domain_does_no_io() {
    let bad = offenders(&["domain"], &["tokio::", "std::fs", "std::net", "async fn"]);
    assert!(bad.is_empty(), "{bad:#?}");
}
