//! A moto server started by the test that needs it, on a free loopback port, killed on drop.
//!
//! Include it with `#[path = "support/moto.rs"] mod moto;`. The `moto_server` binary is taken from
//! `$VOUCHERDECK_MOTO`, else `./.venv/bin/moto_server` in the crate, else `PATH`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use voucherdeck_aws::AwsOptions;
use voucherdeck_core::backend::{Backend, Names};
use voucherdeck_core::ports::RequestCounter;

/// The moto version the project tests against.
pub const MOTO_VERSION: &str = "5.2.5";
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `moto_server`; the process is killed when this is dropped.
pub struct MotoServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl MotoServer {
    /// Starts moto on a free port of 127.0.0.1 and waits until it answers (panics after 15 s).
    pub fn start() -> MotoServer {
        let binary = find_binary();
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "voucherdeck-moto-{}-{port}.log",
            std::process::id()
        ));
        let log_file = std::fs::File::create(&log).expect("create the moto log file");
        let log_err = log_file.try_clone().expect("clone the moto log file");
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_err))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = MotoServer { child, port, log };
        server.wait_ready();
        server
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The moto process (for benchmarks reading its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto_server exited early ({status}); log:\n{}",
                    self.log_tail()
                );
            }
            if http_ok(self.port) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {} within {} s; log:\n{}",
                self.port,
                READY_TIMEOUT.as_secs(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(3000);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].to_string()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `$VOUCHERDECK_MOTO`, `./.venv/bin/moto_server` in the crate, or `moto_server` on `PATH`.
fn find_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("VOUCHERDECK_MOTO").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "VOUCHERDECK_MOTO={} is not a file",
            p.display()
        );
        return p;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("moto_server");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "moto_server not found (looked at $VOUCHERDECK_MOTO, {}, and PATH). These tests run against a real \
         moto server: run `scripts/test` (which installs it), or install it by hand with \
         `python3 -m venv .venv && .venv/bin/pip install 'moto[server]=={MOTO_VERSION}'`",
        venv.display()
    );
}

/// A port that was free a moment ago (bind port 0, read it, let it go).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Whether `GET /moto-api/` answers 200.
fn http_ok(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    let head = String::from_utf8_lossy(&head[..read]);
    head.starts_with("HTTP/1.") && head.get(9..12) == Some("200")
}

/// Resource names no other test uses: `{prefix}{n}-{pid}-vouchers` and friends.
pub fn unique_names(prefix: &str) -> Names {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let base = format!("{prefix}{n}-{}", std::process::id());
    Names {
        queue: format!("{base}-vouchers"),
        dlq: format!("{base}-vouchers-dlq"),
        table: format!("{base}-vouchers"),
        failure_table: format!("{base}-failures"),
        quota_table: format!("{base}-quotas"),
        audit_table: format!("{base}-vouchers-audit"),
        key_table: format!("{base}-keys"),
    }
}

/// Options pointing the AWS backend at this moto: region us-east-1, one attempt, short timeouts.
/// (Credentials: `connect` falls back to dummy ones for a loopback endpoint.)
pub fn aws_options(moto: &MotoServer) -> AwsOptions {
    AwsOptions {
        region: Some("us-east-1".into()),
        profile: None,
        endpoint_url: Some(moto.endpoint()),
        operation_timeout: Some(Duration::from_secs(20)),
        attempt_timeout: Some(Duration::from_secs(10)),
        max_attempts: Some(1),
    }
}

/// The AWS backend against this moto, with a fresh request counter.
pub async fn aws_backend(moto: &MotoServer, names: Names) -> Backend {
    voucherdeck_aws::connect(&aws_options(moto), names, RequestCounter::default())
        .await
        .expect("connect the AWS backend to moto")
}
