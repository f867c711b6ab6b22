//! The architecture's fences. The crate graph keeps the layers: each crate can name only the crates
//! its manifest lists, so the first test reads that graph with `cargo tree` (the same commands
//! CONTRIBUTING lists) and fails when an edge that would break a layer is added. The rest are what
//! no dependency edge can say, inside one crate: the domain reads no files and opens no sockets
//! (`std` is always there), only the dashboard's effects call the services (its views and `update`
//! may use the services' types, which is why the crate depends on them), nothing in the dashboard
//! prints while the terminal is raw, and no two modules of any crate import each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The packages `package` is built with (normal edges: what its library links, not its tests).
fn dependencies(package: &str) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "-p", package])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != package)
        .map(str::to_string)
        .collect()
}

fn named<'a>(deps: &'a BTreeSet<String>, prefixes: &[&str]) -> Vec<&'a String> {
    deps.iter()
        .filter(|d| prefixes.iter().any(|p| d.starts_with(p)))
        .collect()
}

const SDK: &[&str] = &[
    "aws-sdk-",
    "aws-config",
    "aws-smithy-",
    "aws-credential-types",
];
const TERMINAL: &[&str] = &["ratatui", "crossterm"];
const HTTP: &[&str] = &["axum", "hyper", "tower"];
/// The intake API's own crates (the SDK's HTTP client brings hyper and tower to the backends).
const API: &[&str] = &["axum", "tower-http", "utoipa"];

#[test]
fn the_crate_graph_keeps_the_layers() {
    let core = dependencies("voucherdeck-core");
    let banned: Vec<&str> = [SDK, TERMINAL, HTTP, &["tokio"]].concat();
    assert!(
        named(&core, &banned).is_empty(),
        "the domain and ports stay pure: {:?}",
        named(&core, &banned)
    );
    for layer in ["voucherdeck-pipeline", "voucherdeck-tui", "voucherdeck-api"] {
        let deps = dependencies(layer);
        assert!(deps.contains("voucherdeck-core"), "{layer}: {deps:?}");
        let backends = named(&deps, &["voucherdeck-aws", "voucherdeck-embedded"]);
        assert!(backends.is_empty(), "{layer} names a backend: {backends:?}");
        assert!(named(&deps, SDK).is_empty(), "{layer} links the SDK");
    }
    for backend in [
        "voucherdeck-aws",
        "voucherdeck-embedded",
        "voucherdeck-pipeline",
    ] {
        let deps = dependencies(backend);
        let front = named(&deps, &[TERMINAL, API].concat());
        assert!(front.is_empty(), "{backend} names a front end: {front:?}");
    }
    let tui = dependencies("voucherdeck-tui");
    assert!(
        !tui.contains("voucherdeck-api"),
        "the dashboard reaches the API"
    );
    let api = dependencies("voucherdeck-api");
    assert!(named(&api, TERMINAL).is_empty(), "the API names a terminal");
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file: comment lines and its test module (from `#[cfg(test)]` on) left out.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("read");
    text.split("#[cfg(test)]\nmod ")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn sources(crate_dir: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&workspace().join(crate_dir).join("src"), &mut files);
    assert!(
        files.len() > 3,
        "found {} files under {crate_dir}",
        files.len()
    );
    files
}

#[test]
fn the_domain_does_no_io() {
    for file in sources("crates/core")
        .into_iter()
        .filter(|f| f.components().any(|c| c.as_os_str() == "domain"))
    {
        let text = code(&file);
        for word in [
            "std::fs",
            "std::net",
            "std::process",
            "std::env",
            "async fn",
        ] {
            assert!(!text.contains(word), "{} uses {word}", file.display());
        }
    }
}

/// The services' calls: every `pub fn`/`pub async fn` taking `&self` in an `impl Pipeline` block
/// of the services crate. Read from the code, so a new service is fenced without a list to keep.
fn service_words() -> BTreeSet<String> {
    let mut words = BTreeSet::from(["Pipeline".to_string()]);
    for file in sources("crates/pipeline") {
        let code = code(&file);
        let mut rest = code.as_str();
        while let Some(at) = rest.find("\nimpl Pipeline {\n") {
            let block = &rest[at..];
            let end = block.find("\n}\n").unwrap_or(block.len());
            for item in block[..end].split("    pub ").skip(1) {
                let signature = &item[..item.find(')').unwrap_or(item.len())];
                let Some(name) = signature
                    .strip_prefix("async fn ")
                    .or_else(|| signature.strip_prefix("fn "))
                    .and_then(|s| s.split(['(', '<']).next())
                else {
                    continue;
                };
                if signature.contains("self") {
                    words.insert(format!(".{name}("));
                }
            }
            rest = &block[end..];
        }
    }
    words
}

#[test]
fn only_the_dashboards_effects_call_the_services() {
    let words = service_words();
    for call in [
        ".gift(",
        ".start_consumer(",
        ".start_redrive(",
        ".peek_dlq(",
        ".status(",
    ] {
        assert!(words.contains(call), "the scan finds {call}: {words:?}");
    }
    let root = workspace().join("crates/tui/src");
    for file in sources("crates/tui") {
        let name = file
            .strip_prefix(&root)
            .expect("under crates/tui/src")
            .to_string_lossy()
            .replace('\\', "/");
        let text = code(&file);
        let effects = name.starts_with("effects/");
        // run.rs wires the services in; editor.rs runs a process (`Command::status`).
        if !effects && name != "run.rs" && name != "editor.rs" {
            for word in &words {
                assert!(
                    !names(&text, word),
                    "{name} reaches the services ({word}); only effects/ may"
                );
            }
        }
        // Nothing may print to stdout while the terminal is in raw mode (run.rs reports the log
        // path on stderr, after the terminal is restored).
        let stdout_text = text.replace("eprintln!", "").replace("eprint!(", "");
        for bad in ["println!", "print!(", "dbg!("] {
            assert!(
                !stdout_text.contains(bad),
                "{name} prints to stdout ({bad})"
            );
        }
    }
}

/// Whether `text` names `word` whole: `Pipeline`, but not `PipelineView` or `OtherPipeline`
/// (a call such as `.gift(` is whole by its punctuation).
fn names(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let joined_before = word.starts_with(ident) && before.is_some_and(ident);
        let joined_after = word.ends_with(ident) && after.is_some_and(ident);
        !joined_before && !joined_after
    })
}

/// A module's path in its crate (`view::dashboard::age`; empty for `lib.rs`), from its file.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The paths a file's code names (`use` statements and paths in code), each as its segments, with
/// a group `a::{b, c::d}` spread into `a::b` and `a::c::d`.
fn named_paths(code: &str) -> Vec<Vec<String>> {
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
fn target(from: &[String], path: &[String], known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut at: Vec<String> = from.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            at.clear();
            rest = &rest[1..];
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

type Edges = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// Which module of the crate at `crate_dir` imports which.
fn module_edges(crate_dir: &str) -> Edges {
    let root = workspace().join(crate_dir).join("src");
    let files: Vec<PathBuf> = sources(crate_dir)
        .into_iter()
        .filter(|f| !f.ends_with("main.rs"))
        .collect();
    let known: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&root, f)).collect();
    let mut edges = Edges::new();
    for file in &files {
        let from = module_of(&root, file);
        for path in named_paths(&code(file)) {
            if let Some(to) = target(&from, &path, &known).filter(|to| *to != from) {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// A loop reachable from `at`, as the modules along it, if any.
fn find_cycle(
    at: &Vec<String>,
    edges: &Edges,
    trail: &mut Vec<Vec<String>>,
    done: &mut BTreeSet<Vec<String>>,
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

/// Every crate of the workspace, as its folder: the binary at the root and each under `crates/`.
fn crate_dirs() -> Vec<String> {
    let mut dirs = vec![".".to_string()];
    for entry in std::fs::read_dir(workspace().join("crates")).expect("read crates") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        dirs.push(format!("crates/{name}"));
    }
    assert!(dirs.len() >= 7, "{dirs:?}");
    dirs
}

#[test]
fn no_two_modules_import_each_other_in_any_crate() {
    let mut loops = BTreeSet::new();
    for dir in crate_dirs() {
        let edges = module_edges(&dir);
        let name = |m: &Vec<String>| format!("{dir}: crate::{}", m.join("::"));
        if dir == "crates/tui" {
            let view = edges.get(&vec!["view".to_string()]);
            assert!(
                view.is_some_and(|e| e.len() > 3),
                "the scan finds imports: {edges:?}"
            );
        }
        let mut done = BTreeSet::new();
        for start in edges.keys() {
            let mut trail = Vec::new();
            if let Some(cycle) = find_cycle(start, &edges, &mut trail, &mut done) {
                let names: Vec<String> = cycle.iter().map(name).collect();
                loops.insert(names.join(" → "));
            }
        }
    }
    let loops: Vec<String> = loops.into_iter().collect();
    assert!(
        loops.is_empty(),
        "modules import each other:\n{}",
        loops.join("\n")
    );
}
