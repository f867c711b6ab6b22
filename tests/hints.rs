//! What a failing command says the cause is, and what to do: no credentials is not an unreachable
//! endpoint, and a server error is not silence.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary with a clean environment: no user config, no AWS settings, no instance metadata.
fn cmd(home: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("voucherdeck").expect("binary");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("VOUCHERDECK_") {
            c.env_remove(k);
        }
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_mins(1));
    c
}

#[test]
fn missing_credentials_are_named_with_how_to_provide_them() {
    let home = tempfile::tempdir().expect("home");
    cmd(home.path())
        .args([
            "--endpoint-url",
            "https://sqs.eu-west-1.amazonaws.com",
            "status",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no credentials"))
        .stderr(predicate::str::contains("no AWS credentials were found"))
        .stderr(predicate::str::contains("--profile"))
        .stderr(predicate::str::contains("aws sso login"))
        .stderr(predicate::str::contains("did not answer").not())
        .stderr(predicate::str::contains("cannot reach").not());
}

/// A local endpoint that answers every request with HTTP 500.
fn failing_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = vec![0u8; 65536];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_server_error_is_not_reported_as_no_answer() {
    let home = tempfile::tempdir().expect("home");
    cmd(home.path())
        .args(["--endpoint-url", &failing_endpoint(), "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("HTTP 500"))
        .stderr(predicate::str::contains("answered with a server error"))
        .stderr(predicate::str::contains("did not answer").not());
}

#[test]
fn no_answer_is_reported_as_no_answer() {
    let home = tempfile::tempdir().expect("home");
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    cmd(home.path())
        .args([
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
            "status",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot reach the endpoint"))
        .stderr(predicate::str::contains("did not answer"));
}
