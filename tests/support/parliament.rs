//! The parliament IAM linter, run over `assets/iam/`, and the findings the README there explains.
//!
//! Include it with `#[path = "support/parliament.rs"] mod parliament;`. The `parliament` binary is
//! taken from `$VOUCHERDECK_PARLIAMENT`, else `./.venv/bin/parliament` in the crate, else `PATH`.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The parliament version the project lints with (`scripts/test` installs it).
pub const PARLIAMENT_VERSION: &str = "1.6.4";

/// One finding: the policy file's name, the issue, its severity, and the actions it names (sorted,
/// lower case; empty when parliament names none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub file: String,
    pub issue: String,
    pub severity: String,
    pub actions: Vec<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} [{}]",
            self.file,
            self.severity,
            self.issue,
            self.actions.join(", ")
        )
    }
}

/// Runs `parliament --include-community-auditors` over every policy file of `dir` and returns
/// every finding, from INFO up.
pub fn lint(dir: &Path) -> Vec<Finding> {
    let binary = find_binary();
    let out = Command::new(&binary)
        .arg("--include-community-auditors")
        .args(["--minimum_severity", "INFO", "--json", "--directory"])
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // parliament exits 1 when it found something: only its output tells a failure.
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{} failed ({}):\n{stderr}",
        binary.display(),
        out.status
    );
    assert!(stderr.trim().is_empty(), "parliament complained:\n{stderr}");
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!("parliament printed a line that is not JSON ({e}): {line}")
            });
            finding(&v)
        })
        .collect()
}

fn finding(v: &Value) -> Finding {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let path = text(&v["location"]["filepath"]);
    let file = Path::new(&path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or(path);
    // Actions are in `location.actions` or in `detail`, depending on the auditor.
    let mut actions: Vec<String> = [&v["location"]["actions"], &v["detail"]]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    actions.dedup();
    Finding {
        file,
        issue: text(&v["issue"]),
        severity: text(&v["severity"]),
        actions,
    }
}

/// The findings a README explains: every row of its table under the heading `heading` whose first
/// four cells are `` `file` ``, `` `ISSUE` ``, `SEVERITY` and the actions (`` `a`, `b` `` or `-`).
pub fn explained(readme: &str, heading: &str) -> Vec<Finding> {
    let section = readme
        .split_once(heading)
        .unwrap_or_else(|| panic!("the README has no heading {heading:?}"))
        .1;
    let section = section.split("\n#").next().unwrap_or_default();
    let unquote = |s: &str| s.trim().trim_matches('`').to_string();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split('|').collect();
            assert!(cells.len() >= 5, "a row without its reason: {row}");
            let mut actions: Vec<String> = cells[3]
                .split(',')
                .map(|a| unquote(a).to_ascii_lowercase())
                .filter(|a| !a.is_empty() && a != "-")
                .collect();
            actions.sort();
            assert!(
                !cells[4].trim().is_empty(),
                "a finding without its reason: {row}"
            );
            Finding {
                file: unquote(cells[0]),
                issue: unquote(cells[1]),
                severity: cells[2].trim().to_string(),
                actions,
            }
        })
        .collect()
}

/// `$VOUCHERDECK_PARLIAMENT`, `./.venv/bin/parliament` in the crate, or `parliament` on `PATH`.
fn find_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("VOUCHERDECK_PARLIAMENT").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "VOUCHERDECK_PARLIAMENT={} is not a file",
            p.display()
        );
        return p;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/parliament");
    if venv.is_file() {
        return venv;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("parliament");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "parliament not found (looked at $VOUCHERDECK_PARLIAMENT, {}, and PATH). The IAM policies are \
         linted with it: run `scripts/test` (which installs it), or install it by hand with \
         `python3 -m venv .venv && .venv/bin/pip install 'parliament=={PARLIAMENT_VERSION}'`",
        venv.display()
    );
}
