//! Keeps the architecture's fences honest: the core knows nothing of terminals, and the dashboard
//! reaches AWS only through the services.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn offenders(under: &[&str], forbidden: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for dir in under {
        let mut files = Vec::new();
        rust_files(&src.join(dir), &mut files);
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
        &["domain", "embedded", "aws", "pipeline"],
        &["ratatui", "crossterm", "color_eyre"],
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
