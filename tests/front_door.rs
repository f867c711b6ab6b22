//! The API's front door against hostile clients, over real sockets to a server the test starts on
//! the embedded backend: slow heads and withheld bodies are timed out and capped (in all, per
//! address, per key), a stop with such clients held ends within its deadline and still flushes,
//! and the client address behind a trusted proxy is the one the proxy reported.

#[path = "support/http.rs"]
mod http;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::send;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use voucherdeck_api::{RunningServer, ServeConfig, ServeLimits};
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::{KeySpec, Role};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{Pipeline, PipelineConfig};

const GIFT: &str =
    r#"{"recipient":"ada@example.com","amount":"25.00","currency":"EUR","note":"thanks"}"#;

fn config(limits: ServeLimits) -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        per_ip_per_minute: 0,
        limits,
        ..ServeConfig::default()
    }
}

async fn started(config: ServeConfig) -> (Embedded, Pipeline, RunningServer) {
    let e = Embedded::new(Names::default());
    let admin = Pipeline::new(e.backend.clone(), PipelineConfig::default());
    admin.prepare_embedded().await.expect("prepare");
    let s = RunningServer::start(
        Pipeline::new(e.backend.clone(), PipelineConfig::default()),
        config,
    )
    .await
    .expect("server starts");
    (e, admin, s)
}

async fn key(admin: &Pipeline, sender: &str) -> String {
    admin
        .create_key(&KeySpec {
            sender: sender.into(),
            role: Role::Gifter,
            per_minute: 10_000,
            daily: 100_000,
        })
        .await
        .expect("key")
        .key
}

/// A connection from `from` (any 127.0.0.0/8 address is this machine's loopback on Linux).
async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    let from: IpAddr = from.parse().expect("ip");
    socket.bind(SocketAddr::new(from, 0)).expect("bind");
    socket.connect(to).await.expect("connect")
}

/// How a connection ended: what the server sent, and when it closed (`None`: still open at
/// `within`).
async fn ending(mut s: TcpStream, within: Duration) -> (Vec<u8>, Option<Duration>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(started + within, s.read(&mut buf)).await {
            Err(_) => return (got, None),
            Ok(Ok(0) | Err(_)) => return (got, Some(started.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn status_of(raw: &[u8]) -> Option<u16> {
    std::str::from_utf8(raw)
        .ok()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

fn healthy_within(limit: Duration) -> impl Fn(Instant, u16) {
    move |started, status| {
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < limit,
            "a legitimate request took {:?}",
            started.elapsed()
        );
    }
}

/// A figure of the server's `/metrics` (0 when it is not there).
async fn figure(addr: SocketAddr, series: &str) -> u64 {
    let metrics = send(addr, "GET", "/metrics", &[], None).await;
    assert_eq!(metrics.status, 200);
    metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

/// Connections refused over the per-address cap, and closed for a late head, as `/metrics` says.
async fn connection_figures(addr: SocketAddr) -> (u64, u64) {
    let refused = r#"voucherdeck_api_connections_refused_total{cap="per_address"}"#;
    let closed = r#"voucherdeck_api_connections_closed_total{reason="head_timeout"}"#;
    (figure(addr, refused).await, figure(addr, closed).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_heads_are_capped_per_address_and_timed_out() {
    let header = Duration::from_secs(3);
    let (_e, _admin, s) = started(config(ServeLimits {
        header_read_timeout: header,
        max_connections: 1000,
        max_connections_per_ip: 250,
        ..ServeLimits::default()
    }))
    .await;
    let addr = s.addr();
    let opened = Instant::now();
    // 300 connections from one address that send a request line and part of a header, then
    // nothing; one more that trickles a byte every 200 ms and never ends its head.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut c = connect_from("127.0.0.2", addr).await;
        c.write_all(b"POST /v1/vouchers HTTP/1.1\r\nHost: x\r\nAuthorization: Bear")
            .await
            .expect("write");
        slow.push(tokio::spawn(ending(c, header * 3)));
    }
    let trickle = tokio::spawn(async move {
        let mut c = connect_from("127.0.0.3", addr).await;
        let started = Instant::now();
        for b in b"GET /healthz HTTP/1.1\r\nX-Long: "
            .iter()
            .chain(&[b'a'; 1000])
        {
            if c.write_all(&[*b]).await.is_err() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("a trickled head was read for {:?}", started.elapsed());
    });
    // Meanwhile everyone else is answered, at once.
    let ok = healthy_within(Duration::from_secs(1));
    for _ in 0..5 {
        let started = Instant::now();
        ok(
            started,
            send(addr, "GET", "/healthz", &[], None).await.status,
        );
    }
    assert!(
        opened.elapsed() < header,
        "the legitimate requests were made while the slow heads were held"
    );
    let mut refused = 0;
    let mut timed_out = Vec::new();
    for h in slow {
        let (got, closed) = h.await.expect("reader");
        let closed = closed.expect("every slow connection is closed");
        if closed < Duration::from_secs(1) {
            // Over the per-address cap: a 503 (unless the close raced the write) and closed.
            assert!(got.is_empty() || status_of(&got) == Some(503), "{got:?}");
            refused += 1;
        } else {
            assert!(got.is_empty(), "a slow head is closed unanswered");
            timed_out.push(closed);
        }
    }
    assert_eq!(refused, 50, "250 held from one address, the rest refused");
    let latest = timed_out.iter().max().expect("some held");
    assert!(
        *latest < header + Duration::from_secs(2),
        "held {latest:?} for a {header:?} header timeout"
    );
    let trickled = trickle.await.expect("trickle");
    assert!(
        trickled < header + Duration::from_secs(2),
        "a head trickled byte by byte was held {trickled:?}"
    );
    let started = Instant::now();
    ok(
        started,
        send(addr, "GET", "/healthz", &[], None).await.status,
    );
    // What was refused and closed shows in /metrics: 50 refused; 250 held and 1 trickled closed.
    assert_eq!(connection_figures(addr).await, (50, 251));
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let (_e, _admin, s) = started(config(ServeLimits {
        keep_alive_idle: Duration::from_secs(1),
        ..ServeLimits::default()
    }))
    .await;
    let mut c = TcpStream::connect(s.addr()).await.expect("connect");
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).await.expect("answer");
    assert_eq!(status_of(&buf[..n]), Some(200));
    let (_, closed) = ending(c, Duration::from_secs(5)).await;
    let closed = closed.expect("an idle connection is closed");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_its_answers_is_closed() {
    let (_e, _admin, s) = started(config(ServeLimits {
        write_timeout: Duration::from_secs(1),
        ..ServeLimits::default()
    }))
    .await;
    // A small receive window and many pipelined requests for the largest public answer, never read.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut c = socket.connect(s.addr()).await.expect("connect");
    let many = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(500);
    c.write_all(many.as_bytes()).await.expect("write");
    // Past the write timeout the server has closed: what is left to read ends (a served
    // connection would go on sending all 500 answers, then wait for more requests).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut got = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(3), c.read_to_end(&mut got)).await;
    assert!(
        ended.is_ok(),
        "a slow reader is still served ({} bytes read)",
        got.len()
    );
    let answers = got.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
    assert!(
        answers < 500,
        "{answers} answers sent to a client that read none"
    );

    let r = send(s.addr(), "GET", "/healthz", &[], None).await;
    assert_eq!(r.status, 200);
    let closed = r#"voucherdeck_api_connections_closed_total{reason="write_timeout"}"#;
    assert_eq!(figure(s.addr(), closed).await, 1);
    assert_eq!(
        figure(s.addr(), "voucherdeck_api_connections_open").await,
        1,
        "only the connection asking"
    );
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_or_too_large_headers_are_refused() {
    let (_e, _admin, s) = started(config(ServeLimits::default())).await;
    let many: Vec<(String, String)> = (0..150).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = http::try_send(s.addr(), "GET", "/healthz", &many, None).await;
    assert_eq!(r.map(|r| r.status), Some(431), "150 header fields");
    let huge = "a".repeat(64 * 1024);
    let r = http::try_send(s.addr(), "GET", "/healthz", &[("X-Huge", &huge)], None).await;
    assert_eq!(r.map(|r| r.status), Some(431), "a 64 KiB header");
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_cannot_hold_every_request_slot() {
    let (_e, admin, s) = started(config(ServeLimits {
        key_in_flight: 4,
        body_read_timeout: Duration::from_secs(1),
        ..ServeLimits::default()
    }))
    .await;
    let addr = s.addr();
    let greedy = key(&admin, "greedy").await;
    let other = key(&admin, "other").await;
    // Six complete heads with a valid key whose bodies never come.
    let mut withheld = Vec::new();
    for _ in 0..6 {
        let mut c = TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "POST /v1/vouchers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {greedy}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            GIFT.len()
        );
        c.write_all(head.as_bytes()).await.expect("write");
        withheld.push(tokio::spawn(ending(c, Duration::from_secs(5))));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let r = send(
        addr,
        "POST",
        "/v1/vouchers",
        &[
            ("Authorization", &format!("Bearer {other}")),
            ("Content-Type", "application/json"),
        ],
        Some(GIFT),
    )
    .await;
    assert_eq!(r.status, 202, "another key is served: {}", r.body);
    assert!(started.elapsed() < Duration::from_millis(900));
    let mut over = 0;
    let mut timed_out = 0;
    for h in withheld {
        let (got, closed) = h.await.expect("reader");
        let closed = closed.expect("answered and closed");
        let text = String::from_utf8_lossy(&got).to_string();
        match status_of(&got) {
            Some(429) => {
                assert!(closed < Duration::from_millis(500), "at once: {closed:?}");
                assert!(text.contains("key-in-flight"), "{text}");
                assert!(text.contains("at most 4 requests in flight"), "{text}");
                assert!(
                    text.to_ascii_lowercase().contains("retry-after: 1"),
                    "{text}"
                );
                over += 1;
            }
            Some(408) => {
                assert!(
                    closed >= Duration::from_millis(900) && closed < Duration::from_secs(3),
                    "after the body-read timeout: {closed:?}"
                );
                assert!(text.contains("body-timeout"), "{text}");
                timed_out += 1;
            }
            other => panic!("{other:?}: {text}"),
        }
    }
    assert_eq!((over, timed_out), (2, 4));
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_is_sent_only_once_the_key_is_accepted() {
    let (_e, admin, s) = started(config(ServeLimits::default())).await;
    let good = key(&admin, "acme").await;
    for (key, first) in [
        ("vdk_nope_nope", "HTTP/1.1 401"),
        (good.as_str(), "HTTP/1.1 100"),
    ] {
        let mut c = TcpStream::connect(s.addr()).await.expect("connect");
        let head = format!(
            "POST /v1/vouchers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            GIFT.len()
        );
        c.write_all(head.as_bytes()).await.expect("write");
        let mut buf = [0u8; 12];
        tokio::time::timeout(Duration::from_secs(2), c.read_exact(&mut buf))
            .await
            .expect("an answer without the body")
            .expect("read");
        assert_eq!(std::str::from_utf8(&buf), Ok(first));
    }
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_slow_clients_held_ends_by_its_deadline_and_still_flushes() {
    let (_e, admin, s) = started(config(ServeLimits {
        header_read_timeout: Duration::from_mins(1),
        body_read_timeout: Duration::from_mins(1),
        shutdown_deadline: Duration::from_secs(1),
        ..ServeLimits::default()
    }))
    .await;
    let addr = s.addr();
    let k = key(&admin, "acme").await;
    let auth = format!("Bearer {k}");
    let r = send(
        addr,
        "POST",
        "/v1/vouchers",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(GIFT),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // A slow head, and a request whose body never comes.
    let mut head = TcpStream::connect(addr).await.expect("connect");
    head.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let mut body = TcpStream::connect(addr).await.expect("connect");
    body.write_all(
        format!(
            "POST /v1/vouchers HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    s.begin_stop();
    let (_, closed) = ending(head, Duration::from_millis(500)).await;
    assert!(
        closed.is_some(),
        "a connection without a request is closed at once"
    );
    tokio::time::timeout(Duration::from_secs(5), s.stop())
        .await
        .expect("the stop ends by its deadline")
        .expect("stop");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let (_, closed) = ending(body, Duration::from_secs(1)).await;
    assert!(closed.is_some(), "the held connections are closed");
    // What the server held was flushed after the deadline: the gift's audit entry is written.
    let audit = admin.recent_audit(20).await.expect("audit");
    assert!(
        audit.iter().any(|e| e.actor.ends_with(" acme")),
        "the audit was flushed: {audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_address_is_the_one_the_trusted_proxy_reported() {
    let (_e, admin, s) = started(ServeConfig {
        per_ip_per_minute: 2,
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("net")],
        ..config(ServeLimits::default())
    })
    .await;
    let addr = s.addr();
    // The client sent its own first X-Forwarded-For line; the proxy appended a second one, with
    // the port it saw. Whatever the client writes, its bucket is the address the proxy saw.
    for (n, chosen) in ["6.6.6.1", "6.6.6.2", "6.6.6.3"].into_iter().enumerate() {
        let r = send(
            addr,
            "GET",
            "/healthz",
            &[
                ("X-Forwarded-For", chosen),
                ("X-Forwarded-For", "198.51.100.7:5678"),
            ],
            None,
        )
        .await;
        if n < 2 {
            assert_eq!(r.status, 200, "{}", r.body);
        } else {
            assert_eq!(r.status, 429, "{}", r.body);
            assert!(r.body.contains("198.51.100.7 may make 2"), "{}", r.body);
        }
    }
    // A bracketed IPv6 hop with a port is that address, not the proxy's.
    for n in 0..3 {
        let r = send(
            addr,
            "GET",
            "/healthz",
            &[("X-Forwarded-For", "[2001:db8::1]:443")],
            None,
        )
        .await;
        assert_eq!(r.status, if n < 2 { 200 } else { 429 }, "{}", r.body);
        if n == 2 {
            assert!(r.body.contains("2001:db8::1 may make 2"), "{}", r.body);
        }
    }
    // Junk stops the walk at the nearest address a trusted hop reported (here the peer).
    let r = send(
        addr,
        "GET",
        "/healthz",
        &[("X-Forwarded-For", "6.6.6.6, not-an-address")],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    // The audit records the address the limit used.
    let k = key(&admin, "acme").await;
    let auth = format!("Bearer {k}");
    let r = send(
        addr,
        "POST",
        "/v1/vouchers",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Forwarded-For", "203.0.113.50:4242, 127.0.0.9"),
        ],
        Some(GIFT),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    s.stop().await.expect("stop");
    let audit = admin.recent_audit(20).await.expect("audit");
    let gift = audit
        .iter()
        .find(|e| e.actor.ends_with(" acme"))
        .expect("the gift's audit entry");
    assert_eq!(gift.client_ip.as_deref(), Some("203.0.113.50"));
}

#[test]
fn the_binary_exits_on_sigterm_with_a_slow_client_held() {
    use std::io::{BufRead, BufReader, Write};
    let home = tempfile::tempdir().expect("tmp");
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin!("voucherdeck"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("VOUCHERDECK_") {
            c.env_remove(k);
        }
    }
    let mut child = c
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("NO_COLOR", "1")
        .args(["serve", "--embedded", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let (lines, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut log = Vec::new();
    let addr: SocketAddr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no listening line: {log:?}"));
        if let Some(a) = line.split("addr=").nth(1) {
            break a
                .split_whitespace()
                .next()
                .expect("addr")
                .parse()
                .expect("addr");
        }
        log.push(line);
    };
    let mut slow = std::net::TcpStream::connect(addr).expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("write");
    std::thread::sleep(Duration::from_millis(200));
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(8) {
            let _ = child.kill();
            panic!("still running {:?} after SIGTERM", started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
    drop(slow);
}
