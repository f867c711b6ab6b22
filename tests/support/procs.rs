//! voucherdeck as separate processes, the way operators run it: the built binary against an
//! endpoint (moto, or the fault proxy in front of it), with its own home, names and config file.
//!
//! Include it with `#[path = "support/procs.rs"] mod procs;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use voucherdeck_core::backend::Names;

/// Where and as what the processes run.
pub struct Env {
    pub home: tempfile::TempDir,
    pub endpoint: String,
    pub names: Names,
    pub config: PathBuf,
}

impl Env {
    /// A fresh home with `config` (TOML) as the config file.
    pub fn new(endpoint: &str, names: Names, config: &str) -> Env {
        let home = tempfile::tempdir().expect("temp home");
        let path = home.path().join("voucherdeck.toml");
        std::fs::write(&path, config).expect("write the config file");
        Env {
            home,
            endpoint: endpoint.to_string(),
            names,
            config: path,
        }
    }

    /// `voucherdeck --endpoint-url … --queue … ARGS` with a clean environment (no user config, no
    /// AWS settings but dummy credentials), stdin closed, output captured.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_at(&self.endpoint, args)
    }

    /// The same against another endpoint.
    pub fn command_at(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_voucherdeck"));
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") || k.starts_with("VOUCHERDECK_") {
                c.env_remove(k);
            }
        }
        c.env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("XDG_STATE_HOME", self.home.path().join(".state"))
            .env("NO_COLOR", "1")
            .env("TERM", "xterm-256color")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .args(self.global_args(endpoint))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// `worker --concurrency 1` against `endpoint`, started.
    pub fn spawn_worker(&self, endpoint: &str) -> Child {
        self.command_at(endpoint, &["worker", "--concurrency", "1"])
            .spawn()
            .expect("spawn a worker")
    }

    /// `gift --bulk --json --file FILE` against `endpoint`, started.
    pub fn spawn_gift_file(&self, endpoint: &str, file: &Path) -> Child {
        let file = file.display().to_string();
        self.command_at(endpoint, &["gift", "--bulk", "--json", "--file", &file])
            .spawn()
            .expect("spawn the producer")
    }

    /// The global flags that point a process at this pipeline.
    pub fn global_args(&self, endpoint: &str) -> Vec<String> {
        [
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
            "--config",
            &self.config.display().to_string(),
            "--queue",
            &self.names.queue,
            "--dlq",
            &self.names.dlq,
            "--table",
            &self.names.table,
        ]
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}

/// Sends SIGTERM (or SIGINT) to a child.
pub fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_child(child);
    // The child may have exited already; that is fine.
    let _ = rustix::process::kill_process(pid, sig);
}

pub fn sigterm(child: &Child) {
    signal(child, rustix::process::Signal::TERM);
}

pub fn sigint(child: &Child) {
    signal(child, rustix::process::Signal::INT);
}

/// Waits up to `limit` for the child to exit; kills it and panics past that.
pub fn wait_exit(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the child and returns its status, stdout and stderr (panics past `limit`).
pub fn finish(mut child: Child, limit: Duration, what: &str) -> (ExitStatus, String, String) {
    use std::io::Read;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let status = wait_exit(&mut child, limit, what);
    (
        status,
        out_reader.join().unwrap_or_default(),
        err_reader.join().unwrap_or_default(),
    )
}

/// Polls `check` every 100 ms until it returns true; panics with `what` after `limit`.
pub fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes JSON Lines gifts to a file: gifts `from..from + n` from `sender`, each with the
/// idempotency key `gift-N` when `keyed`.
pub fn gift_file(
    dir: &Path,
    name: &str,
    (from, n): (usize, usize),
    sender: &str,
    keyed: bool,
) -> PathBuf {
    let path = dir.join(name);
    let lines: Vec<String> = (from..from + n)
        .map(|i| {
            let key = if keyed {
                format!(r#","idempotency_key":"gift-{i}""#)
            } else {
                String::new()
            };
            format!(
                r#"{{"recipient":"user{i}@example.com","amount":"{}.{:02}","currency":"EUR","sender":"{sender}"{key}}}"#,
                1 + i % 900,
                i % 100
            )
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the gift file");
    path
}
