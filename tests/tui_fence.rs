//! The TUI's fences: it never touches the AWS SDK, and only `effects` (its files) and `run` (which
//! wires it) reach the services; `App`, `update` and the views work on plain data. That data may be the
//! services' own types (`crate::pipeline::{DlqMessage, RedriveProgress}`…): importing those is fine,
//! holding a `Pipeline` or a service handle, or calling a service, is not. Inside, its modules form a
//! hierarchy: no two import each other, directly or round a loop (a parent's shared pieces live in a
//! module of their own, never in the parent its children would import).

use std::path::Path;

/// What only the `effects` module and `run.rs` may mention: the services themselves, their handles,
/// and their calls.
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
        let effects = name == "effects.rs" || name.starts_with("effects/");
        if !effects && name != "run.rs" {
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

/// A module's path under `src/tui` (`view::dashboard::age`; `` for `tui/mod.rs`), from its file.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).expect("under src/tui");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The paths a file names (`use` statements and paths in code), each as its segments, with a group
/// `a::{b, c::d}` spread into `a::b` and `a::c::d`. Test modules (from `#[cfg(test)]` on) are left
/// out: their `super` is the file itself.
fn named_paths(text: &str) -> Vec<Vec<String>> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // A path starts at an identifier not preceded by `::`, `.` or another identifier character.
        let starts = ident(bytes[i])
            && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == b':' || bytes[i - 1] == b'.'));
        if !starts {
            i += 1;
            continue;
        }
        let (paths, end) = read_path(bytes, i);
        out.extend(paths.into_iter().filter(|p| p.len() > 1));
        i = end.max(i + 1);
    }
    out
}

/// Reads `a::b::{c, d::e}` from `start`; returns the spread paths and where it ended.
fn read_path(bytes: &[u8], start: usize) -> (Vec<Vec<String>>, usize) {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut segs = Vec::new();
    let mut i = start;
    loop {
        let s = i;
        while i < bytes.len() && ident(bytes[i]) {
            i += 1;
        }
        if s == i {
            break;
        }
        segs.push(String::from_utf8_lossy(&bytes[s..i]).to_string());
        if bytes.get(i..i + 2) != Some(b"::") {
            return (vec![segs], i);
        }
        i += 2;
        if bytes.get(i) == Some(&b'{') {
            let mut out = Vec::new();
            i += 1;
            loop {
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return (out, i + 1);
                }
                let (inner, end) = read_path(bytes, i);
                for p in inner {
                    out.push(segs.iter().cloned().chain(p).collect());
                }
                i = end.max(i + 1);
            }
        }
    }
    (vec![segs], i)
}

/// The module a path names, from module `from`: the deepest known module along it.
fn target(
    from: &[String],
    path: &[String],
    known: &std::collections::BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut at: Vec<String> = from.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") if rest.get(1).is_some_and(|s| s == "tui") => {
            at.clear();
            rest = &rest[2..];
        }
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                at.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            // A path from a child module (`use widgets::x`, `depth::render(…)`).
            let mut child = at.clone();
            child.push(first.to_string());
            if !known.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    for seg in rest {
        let mut next = at.clone();
        next.push(seg.clone());
        if !known.contains(&next) {
            break;
        }
        at = next;
    }
    Some(at)
}

#[test]
fn tui_modules_never_import_each_other() {
    use std::collections::{BTreeMap, BTreeSet};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let known: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&root, f)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&root, file);
        let text = std::fs::read_to_string(file).expect("read");
        for path in named_paths(&text) {
            if let Some(to) = target(&from, &path, &known).filter(|to| *to != from) {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    let name = |m: &Vec<String>| format!("tui::{}", m.join("::"));
    assert!(
        edges
            .get(&vec!["view".to_string()])
            .is_some_and(|e| e.len() > 3),
        "the scan finds imports: {edges:?}"
    );
    for (from, tos) in &edges {
        for to in tos {
            assert!(
                !edges.get(to).is_some_and(|back| back.contains(from)),
                "{} and {} import each other",
                name(from),
                name(to)
            );
        }
    }
    // Nor in a longer loop: the modules form a hierarchy.
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        let mut trail = Vec::new();
        if let Some(cycle) = find_cycle(start, &edges, &mut trail, &mut done) {
            let names: Vec<String> = cycle.iter().map(name).collect();
            panic!("modules import each other in a loop: {}", names.join(" → "));
        }
    }
}

type Edges = std::collections::BTreeMap<Vec<String>, std::collections::BTreeSet<Vec<String>>>;

/// A loop reachable from `at`, as the modules along it, if any.
fn find_cycle(
    at: &Vec<String>,
    edges: &Edges,
    trail: &mut Vec<Vec<String>>,
    done: &mut std::collections::BTreeSet<Vec<String>>,
) -> Option<Vec<Vec<String>>> {
    if let Some(i) = trail.iter().position(|m| m == at) {
        let mut cycle = trail[i..].to_vec();
        cycle.push(at.clone());
        return Some(cycle);
    }
    if done.contains(at) {
        return None;
    }
    trail.push(at.clone());
    for next in edges.get(at).into_iter().flatten() {
        if let Some(cycle) = find_cycle(next, edges, trail, done) {
            return Some(cycle);
        }
    }
    trail.pop();
    done.insert(at.clone());
    None
}
