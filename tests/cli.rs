//! The headless commands as a user runs them: exit codes, messages, `--json` shapes, and the whole
//! provision → gift → worker → status → dlq → redrive flow against moto.

#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::io::Write;

use assert_cmd::Command;
use predicates::prelude::*;
use voucherdeck_core::ports::OutgoingMessage;

/// The binary with a clean environment: no user config, no AWS settings leaking in.
fn cmd(home: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("voucherdeck").expect("binary");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("VOUCHERDECK_") {
            c.env_remove(k);
        }
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("NO_COLOR", "1");
    c
}

fn on_moto(
    home: &std::path::Path,
    server: &moto::MotoServer,
    names: &voucherdeck_core::backend::Names,
) -> Command {
    let mut c = cmd(home);
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env(
            "VOUCHERDECK_KEY_PEPPER",
            "a pepper of the tests, 32 bytes long",
        )
        .args([
            "--endpoint-url",
            &server.endpoint(),
            "--region",
            "us-east-1",
        ])
        .args([
            "--queue",
            &names.queue,
            "--dlq",
            &names.dlq,
            "--table",
            &names.table,
        ]);
    c
}

fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

#[test]
fn help_lists_every_command() {
    let home = tempfile::tempdir().expect("tmp");
    let out = cmd(home.path()).arg("--help").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for word in [
        "provision",
        "gift",
        "worker",
        "status",
        "dlq",
        "redrive",
        "--endpoint-url",
        "--read-only",
    ] {
        assert!(text.contains(word), "help lacks {word}");
    }
}

#[test]
fn invalid_gift_names_fields_and_exits_2() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args([
            "gift",
            "--recipient",
            "nobody",
            "--amount",
            "10.123",
            "--sender",
            "ops",
            "--currency",
            "euro",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("recipient").and(predicate::str::contains(
                "amount may have at most 2 decimals",
            )),
        )
        .stderr(predicate::str::contains(
            "currency must be an ISO 4217 code",
        ))
        // Said once, as the command's error.
        .stderr(predicate::function(|e: &str| {
            e.matches("amount may have at most 2 decimals").count() == 1
        }));
}

#[test]
fn gift_file_takes_bom_crlf_and_reports_bad_lines_by_number() {
    let home = tempfile::tempdir().expect("tmp");
    let path = home.path().join("gifts.jsonl");
    let mut text =
        b"\xef\xbb\xbf{\"recipient\":\"a@b.co\",\"amount\":\"1\",\"sender\":\"s\"}\r\n".to_vec();
    text.extend_from_slice(b"\r\n{\"recipient\":\"a@b.co\",\"amount\":\"1\",\"sender\":\"s\",\"currency\":\"eur\"}\r\n");
    text.extend_from_slice(b"\xff\xfe\r\n");
    text.extend(std::iter::repeat_n(b'x', 70_000));
    text.extend_from_slice(b"\n{\"recipient\":\"a@b.co\",\"amount\":\"0\",\"sender\":\"s\"}");
    std::fs::write(&path, &text).expect("write");
    let out = cmd(home.path())
        .args(["gift", "--json", "--file", path.to_str().expect("utf8")])
        .assert()
        .code(2);
    let v = json_of(&out.get_output().stdout);
    assert_eq!(
        (
            v["sent"].as_u64(),
            v["refused"].as_u64(),
            v["failed"].as_u64()
        ),
        (Some(2), Some(3), Some(0))
    );
    let lines: Vec<u64> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["line"].as_u64())
        .collect();
    assert_eq!(lines, vec![1, 3, 4, 5, 6]);
    let errors: Vec<&str> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["error"].as_str())
        .collect();
    assert!(errors[0].contains("not UTF-8"), "{errors:?}");
    assert!(errors[1].contains("longer than 65536 bytes"), "{errors:?}");
    assert!(
        errors[2].contains("amount must be greater than 0"),
        "{errors:?}"
    );
}

/// The API's rules on the command line too: amounts exactly as written (a JSON number in a file is
/// not rounded through floating point), and no character SQS would refuse.
#[test]
fn gift_amounts_are_exact_and_text_is_what_sqs_accepts() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args([
            "gift",
            "--recipient",
            "a@b.co",
            "--amount",
            "19.999999999999999",
        ])
        .args(["--sender", "ops", "--note", "thanks\u{fffe}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "amount may have at most 2 decimals",
        ))
        .stderr(
            predicate::str::contains("note may not contain")
                .and(predicate::str::contains("U+FFFE")),
        );
    let path = home.path().join("gifts.jsonl");
    let text = concat!(
        r#"{"recipient":"a@b.co","amount":19.999999999999999,"sender":"s"}"#,
        "\n",
        r#"{"recipient":"a@b.co","amount":"5","sender":"s\uFFFF"}"#,
        "\n",
        r#"{"recipient":"a@b.co","amount":12.34,"sender":"s"}"#,
        "\n",
    );
    std::fs::write(&path, text).expect("write");
    let out = cmd(home.path())
        .args(["gift", "--json", "--file", path.to_str().expect("utf8")])
        .assert()
        .code(2);
    let v = json_of(&out.get_output().stdout);
    assert_eq!(
        (v["sent"].as_u64(), v["refused"].as_u64()),
        (Some(1), Some(2)),
        "{v}"
    );
    let errors: Vec<&str> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["error"].as_str())
        .collect();
    assert!(
        errors[0].contains("amount may have at most 2 decimals"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("sender may not contain") && errors[1].contains("U+FFFF"),
        "{errors:?}"
    );
}

#[test]
fn empty_gift_file_is_a_usage_error() {
    let home = tempfile::tempdir().expect("tmp");
    let path = home.path().join("empty.jsonl");
    std::fs::write(&path, "\n \r\n").expect("write");
    cmd(home.path())
        .args(["gift", "--file", path.to_str().expect("utf8")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "has no gifts: expected one JSON object per line",
        ));
}

#[test]
fn a_malformed_endpoint_is_not_a_url() {
    let home = tempfile::tempdir().expect("tmp");
    for bad in [
        "localhost:4566",
        "http//127.0.0.1:5000",
        "ftp://host",
        "http://",
    ] {
        cmd(home.path())
            .args(["--endpoint-url", bad, "status"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("is not a URL"));
    }
    cmd(home.path())
        .env("AWS_ENDPOINT_URL", "127.0.0.1:5000")
        .arg("status")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "AWS_ENDPOINT_URL \"127.0.0.1:5000\" is not a URL",
        ));
}

#[test]
fn json_logs_are_one_object_per_line_and_text_logs_have_no_colour_in_a_pipe() {
    let home = tempfile::tempdir().expect("tmp");
    let out = cmd(home.path())
        .env_remove("NO_COLOR")
        .args(["--log-format", "json", "worker", "--until-empty"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(!stderr.trim().is_empty());
    for line in stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
    let out = cmd(home.path())
        .env_remove("NO_COLOR")
        .args(["worker", "--until-empty"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("worker started"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );
}

#[test]
fn read_only_refuses_mutations_but_not_reads() {
    let home = tempfile::tempdir().expect("tmp");
    for args in [
        vec!["provision"],
        vec![
            "gift",
            "--recipient",
            "a@b.co",
            "--amount",
            "1",
            "--sender",
            "s",
        ],
        vec!["redrive", "--all"],
        vec!["worker"],
    ] {
        cmd(home.path())
            .arg("--read-only")
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("read-only"));
    }
    cmd(home.path())
        .args(["--read-only", "status"])
        .assert()
        .success();
}

#[test]
fn status_json_on_embedded_has_the_documented_shape() {
    let home = tempfile::tempdir().expect("tmp");
    let out = cmd(home.path())
        .args(["status", "--json"])
        .assert()
        .success();
    let v = json_of(&out.get_output().stdout);
    for q in ["queue", "dlq"] {
        for k in ["visible", "in_flight", "delayed", "oldest_age_seconds"] {
            assert!(v[q].get(k).is_some(), "{q}.{k} missing in {v}");
        }
    }
    assert!(v["recent_failures"].is_array());
    assert!(v["as_of"].is_string());
    assert_eq!(v["backend"]["kind"], "embedded");
}

#[test]
fn bad_config_file_is_a_usage_error() {
    let home = tempfile::tempdir().expect("tmp");
    let path = home.path().join("bad.toml");
    std::fs::write(&path, "queue = \"x\"\nqueu_typo = 1\n").expect("write");
    cmd(home.path())
        .args(["--config", path.to_str().expect("utf8"), "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown field"));
}

#[test]
fn a_fifo_queue_gets_a_fifo_dead_letter_queue() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args(["--queue", "orders.fifo", "--dlq", "orders-dlq", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must be FIFO too"))
        .stderr(predicate::str::contains("orders-dlq.fifo"));
    cmd(home.path())
        .args(["--queue", "orders", "--dlq", "orders-dlq.fifo", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must be standard too"));
    cmd(home.path())
        .args(["--queue", "orders.fifo", "status", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"orders-dlq.fifo\""));
}

#[test]
fn limits_are_the_same_rule_in_flags_and_config() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args(["redrive", "--all", "--rate", "501"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "must be 1 to 500 messages per second",
        ));
    cmd(home.path())
        .args(["worker", "--concurrency", "65"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("from 1 to 64"));
    cmd(home.path())
        .args(["redrive", "--all", "--to", "a.b"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid SQS queue name"));
    cmd(home.path())
        .args(["--queue", "bad name", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid SQS queue name"));
    let path = home.path().join("backend.toml");
    std::fs::write(&path, "backend = \"cloud\"\n").expect("write");
    cmd(home.path())
        .args(["--config", path.to_str().expect("utf8"), "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected `embedded` or `aws`"));
    let path = home.path().join("intake.toml");
    std::fs::write(&path, "intake_429_percent = 0\n").expect("write");
    cmd(home.path())
        .args(["--config", path.to_str().expect("utf8"), "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "config: intake_429_percent must be 1 to 100",
        ));
}

#[test]
fn fifo_queue_names_are_accepted() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args([
            "--queue",
            "orders.fifo",
            "--dlq",
            "orders-dlq.fifo",
            "status",
            "--json",
        ])
        .assert()
        .success();
}

#[test]
fn missing_queue_says_to_provision_and_exits_1() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-missing");
    on_moto(home.path(), &server, &names)
        .arg("status")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("voucherdeck provision"));
}

fn gifts_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("gifts.jsonl");
    let mut f = std::fs::File::create(&path).expect("create");
    for i in 0..200 {
        let line = if i % 20 == 7 {
            serde_json::json!({"recipient": format!("not-an-address-{i}"), "amount": "5", "sender": format!("s{}", i % 10)})
        } else {
            serde_json::json!({"recipient": format!("user{i}@example.com"), "amount": format!("{}.25", i % 50 + 1),
                "currency": "EUR", "sender": format!("s{}", i % 10), "note": "welcome"})
        };
        writeln!(f, "{line}").expect("write");
    }
    path
}

#[test]
fn whole_flow_against_moto() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-flow");
    let run = || on_moto(home.path(), &server, &names);

    run()
        .arg("provision")
        .assert()
        .success()
        .stdout(predicate::str::contains("created"));
    run()
        .arg("provision")
        .assert()
        .success()
        .stdout(predicate::str::contains("exists"));

    // 200 lines, 10 invalid: those are reported, the 190 others are sent.
    let file = gifts_file(home.path());
    run()
        .args(["gift", "--file", file.to_str().expect("utf8")])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("sent 190 of 200; 10 refused"))
        .stderr(predicate::str::contains("line 8: invalid gift: recipient"));

    // 5 poison messages sent raw to the queue.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let backend = rt.block_on(moto::aws_backend(&server, names.clone()));
    rt.block_on(async {
        let q = backend.queue.open(&names.queue).await.expect("open");
        let poison: Vec<OutgoingMessage> = ["not json", "{\"v\":9}", "[]", "{\"v\":1}", "<xml/>"]
            .iter()
            .enumerate()
            .map(|(i, b)| OutgoingMessage::plain(i.to_string(), *b))
            .collect();
        backend
            .queue
            .send_batch(&q, &poison)
            .await
            .expect("send poison");
    });

    let out = run()
        .args(["worker", "--until-empty", "--json"])
        .timeout(std::time::Duration::from_mins(4))
        .assert()
        .success();
    let report = json_of(&out.get_output().stdout);
    assert!(report["persisted"].as_u64().expect("persisted") >= 190);

    assert_eq!(
        rt.block_on(backend.store.count_vouchers()).expect("count"),
        190
    );
    let out = run().args(["status", "--json"]).assert().success();
    let status = json_of(&out.get_output().stdout);
    assert_eq!(status["queue"]["visible"], 0);
    assert_eq!(status["dlq"]["visible"], 5);
    assert_eq!(
        status["recent_failures"].as_array().expect("array").len(),
        5
    );

    let out = run().args(["dlq", "list", "--json"]).assert().success();
    let listed = json_of(&out.get_output().stdout);
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 5);
    assert!(
        listed.iter().all(|m| m["failure"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())),
        "{listed:?}"
    );

    run()
        .args(["redrive", "--all", "--rate", "50"])
        .assert()
        .success()
        .stdout(predicate::str::contains("moved 5/5"));
    let out = run().args(["status", "--json"]).assert().success();
    let status = json_of(&out.get_output().stdout);
    assert_eq!(status["dlq"]["visible"], 0);
    assert_eq!(status["queue"]["visible"], 5);
}

#[test]
fn audit_lists_who_did_what_newest_first() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-audit");
    let run = || on_moto(home.path(), &server, &names);
    run().arg("provision").assert().success();
    run()
        .args(["audit", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"provision\""));
    for amount in ["1.00", "2.00"] {
        run()
            .args(["gift", "--recipient", "ada@example.com", "--sender", "ops"])
            .args(["--amount", amount])
            .assert()
            .success();
    }
    let out = run()
        .args(["audit", "--json", "--limit", "2"])
        .assert()
        .success();
    let entries = json_of(&out.get_output().stdout);
    let entries = entries.as_array().expect("an array");
    assert_eq!(entries.len(), 2, "{entries:?}");
    for e in entries {
        assert_eq!(
            (e["action"].as_str(), e["outcome"].as_str()),
            (Some("gift"), Some("ok")),
            "{e}"
        );
    }
    let at = |i: usize| {
        entries[i]["at"]
            .as_str()
            .expect("an RFC 3339 time")
            .to_string()
    };
    assert!(at(0) >= at(1), "newest first: {entries:?}");
    run()
        .args(["audit", "--since", "1h"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok       gift"))
        .stdout(predicate::str::contains("ok       provision"));
    run()
        .args(["audit", "--since", "31d"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since").and(predicate::str::contains("at most 30d")));
}

#[test]
fn redrive_of_unknown_ids_says_so_and_exits_1() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args(["redrive", "--id", "no-such-message"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("were not found in the DLQ"));
}

#[test]
fn redrive_to_the_dlq_itself_is_refused() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args(["redrive", "--match", "x", "--to", "vouchers-dlq"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the DLQ itself"));
}

#[test]
fn settings_come_from_flags_then_env_then_config_file() {
    let home = tempfile::tempdir().expect("tmp");
    let config = home.path().join("voucherdeck.toml");
    std::fs::write(&config, "queue = \"from-file\"\ndlq = \"file-dlq\"\n").expect("write");
    let queue_name = |extra_env: Option<&str>, flag: Option<&str>| {
        let mut c = cmd(home.path());
        c.args([
            "--config",
            config.to_str().expect("utf8"),
            "status",
            "--json",
        ]);
        if let Some(v) = extra_env {
            c.env("VOUCHERDECK_QUEUE", v);
        }
        if let Some(f) = flag {
            c.args(["--queue", f]);
        }
        let out = c.assert().success();
        let v = json_of(&out.get_output().stdout);
        (
            v["queue"]["name"].as_str().expect("name").to_string(),
            v["dlq"]["name"].as_str().expect("name").to_string(),
        )
    };
    assert_eq!(
        queue_name(None, None),
        ("from-file".into(), "file-dlq".into())
    );
    assert_eq!(queue_name(Some("from-env"), None).0, "from-env");
    assert_eq!(
        queue_name(Some("from-env"), Some("from-flag")).0,
        "from-flag"
    );
}

/// A config file naming an embedded pipeline, one on moto and one that cannot be reached.
fn pipelines_config(
    dir: &std::path::Path,
    server: &moto::MotoServer,
    names: &voucherdeck_core::backend::Names,
) -> std::path::PathBuf {
    let path = dir.join("pipelines.toml");
    let text = format!(
        "[pipelines.demo]\nbackend = \"embedded\"\n\
         [pipelines.staging]\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\nqueue = \"{}\"\ndlq = \"{}\"\ntable = \"{}\"\n\
         [pipelines.prod]\nendpoint_url = \"http://127.0.0.1:9\"\nregion = \"eu-west-1\"\nproduction = true\n",
        server.endpoint(),
        names.queue,
        names.dlq,
        names.table
    );
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn named_pipelines_status_all_and_check_codes() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-pipes");
    let config = pipelines_config(home.path(), &server, &names);
    let run = |args: &[&str]| {
        let mut c = cmd(home.path());
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .args(["--config", config.to_str().expect("utf8")])
            .args(args);
        c
    };
    run(&["--pipeline", "staging", "provision"])
        .assert()
        .success();

    // Every pipeline, the unreachable one first; it never holds up the others.
    let out = run(&["status", "--all", "--json"]).assert().success();
    let v = json_of(&out.get_output().stdout);
    let pipes = v["pipelines"].as_array().expect("pipelines");
    let order: Vec<&str> = pipes.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(order, vec!["prod", "demo", "staging"]);
    assert!(pipes[0]["error"].is_string() && pipes[0]["production"] == true);
    assert_eq!(pipes[2]["status"]["queue"]["name"], names.queue.as_str());

    // --check: 1 while a pipeline cannot be read; for one pipeline, 0 when fine and 3 with a DLQ message.
    run(&["status", "--all", "--check"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read: prod"));
    run(&["--pipeline", "staging", "status", "--check"])
        .assert()
        .success();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let backend = rt.block_on(moto::aws_backend(&server, names.clone()));
    rt.block_on(async {
        let dlq = backend.queue.open(&names.dlq).await.expect("dlq");
        let m = OutgoingMessage {
            id: "0".into(),
            body: "poison".into(),
            attributes: BTreeMap::new(),
            delay: None,
            group: None,
            dedup: None,
        };
        backend.queue.send_batch(&dlq, &[m]).await.expect("send");
    });
    run(&["--pipeline", "staging", "status", "--check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("1 message(s) in the DLQ"));

    // A production pipeline is read-only unless the run says --write.
    run(&[
        "--pipeline",
        "prod",
        "gift",
        "--recipient",
        "a@b.co",
        "--amount",
        "1",
        "--sender",
        "s",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("marked production").and(predicate::str::contains("--write")));
    run(&["--pipeline", "nope", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("known: demo, prod, staging"));
}

#[test]
fn keys_flags_say_their_rules() {
    let home = tempfile::tempdir().expect("tmp");
    cmd(home.path())
        .args(["keys", "create", "--sender", "acme", "--per-minute", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "must be 1 to 100000 gifts per minute",
        ));
    cmd(home.path())
        .args(["keys", "create", "--sender", "acme", "--role", "admin"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must be gifter or operator"));
    cmd(home.path())
        .args(["--read-only", "keys", "create", "--sender", "acme"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("read-only"));
    cmd(home.path())
        .args(["keys", "create", "--sender", " "])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sender is required"));
}

/// On AWS, the commands that hash API keys refuse to start with the public built-in pepper, and
/// say how to configure (and rotate) one; a short one is refused too.
#[test]
fn keys_need_a_configured_pepper_on_aws() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-pepper");
    let run = || on_moto(home.path(), &server, &names);
    run().arg("provision").assert().success();
    for args in [
        &["keys", "create", "--sender", "acme"][..],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        run()
            .env_remove("VOUCHERDECK_KEY_PEPPER")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("needs the API key pepper on AWS"))
            .stderr(predicate::str::contains("VOUCHERDECK_KEY_PEPPER_FILE"))
            .stderr(predicate::str::contains("To rotate it"));
    }
    run()
        .env("VOUCHERDECK_KEY_PEPPER", "too-short")
        .args(["keys", "create", "--sender", "acme"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least 32 bytes"));
    let pepper = home.path().join("pepper");
    std::fs::write(&pepper, format!("{}\n", "s".repeat(40))).expect("write");
    run()
        .env_remove("VOUCHERDECK_KEY_PEPPER")
        .env("VOUCHERDECK_KEY_PEPPER_FILE", &pepper)
        .args(["keys", "create", "--sender", "acme"])
        .assert()
        .success();
    // The demo key's limits are the embedded backend's only, and say their rules.
    run()
        .args(["serve", "--listen", "127.0.0.1:0", "--demo-key-daily", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("keys create"));
    cmd(home.path())
        .args(["serve", "--demo-key-per-minute", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1 to 100000"));
    // Listing needs no pepper; the embedded demo needs none either.
    run().args(["keys", "list"]).assert().success();
    cmd(home.path())
        .args(["keys", "create", "--sender", "acme"])
        .assert()
        .success();
}

#[test]
fn keys_and_idempotency_keys_against_moto() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-keys");
    let run = || on_moto(home.path(), &server, &names);
    run().arg("provision").assert().success();
    let made = run()
        .args([
            "keys", "create", "--sender", "acme", "--role", "operator", "--json",
        ])
        .assert()
        .success();
    let made = json_of(&made.get_output().stdout);
    let id = made["id"].as_str().expect("id").to_string();
    assert!(
        made["key"]
            .as_str()
            .is_some_and(|k| k.starts_with(&format!("vdk_{id}_")))
    );
    assert_eq!(
        (made["sender"].as_str(), made["role"].as_str()),
        (Some("acme"), Some("operator"))
    );

    let listed = run().args(["keys", "list", "--json"]).assert().success();
    let listed = json_of(&listed.get_output().stdout);
    assert_eq!(listed[0]["id"], id.as_str());
    let text = serde_json::to_string(&listed).expect("json");
    assert!(
        !text.contains(made["key"].as_str().expect("key")),
        "the key is never listed"
    );
    assert!(!text.contains("hash"));

    run()
        .args(["keys", "revoke", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("revoked"));
    let listed = run().args(["keys", "list", "--json"]).assert().success();
    assert!(json_of(&listed.get_output().stdout)[0]["revoked_at"].is_string());
    run()
        .args(["keys", "revoke", "0123456789abcdef"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no API key"));

    let gift = |amount: &str| {
        let mut c = run();
        c.args([
            "gift",
            "--recipient",
            "ada@example.com",
            "--amount",
            amount,
            "--sender",
            "acme",
            "--idempotency-key",
            "k-1",
        ]);
        c
    };
    gift("1.00").assert().success();
    gift("1.00").assert().success();
    gift("2.00")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "idempotency key \"k-1\" was already used for a different gift",
        ));
}

// What a failing command says the cause is, and what to do: no credentials is not an unreachable
// endpoint, and a server error is not silence.

#[test]
fn missing_credentials_are_named_with_how_to_provide_them() {
    let home = tempfile::tempdir().expect("home");
    cmd(home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .timeout(std::time::Duration::from_mins(1))
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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut buf = vec![0u8; 65536];
            let _ = std::io::Read::read(&mut s, &mut buf);
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
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .timeout(std::time::Duration::from_mins(1))
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    cmd(home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .timeout(std::time::Duration::from_mins(1))
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

#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    // `voucherdeck status | head -1`: the reader closes the pipe before the command writes.
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
        .arg("status")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}

/// Two messages sent straight to the DLQ, naming the source queue.
fn seed_dlq(server: &moto::MotoServer, names: &voucherdeck_core::backend::Names) {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let backend = moto::aws_backend(server, names.clone()).await;
        let dlq = backend.queue.open(&names.dlq).await.expect("open");
        let batch: Vec<OutgoingMessage> = ["first", "second"]
            .iter()
            .enumerate()
            .map(|(i, tag)| OutgoingMessage {
                id: i.to_string(),
                body: format!(r#"{{"v":9,"tag":"{tag}"}}"#),
                attributes: BTreeMap::from([(
                    "voucherdeck.source_queue".to_string(),
                    names.queue.clone(),
                )]),
                delay: None,
                group: None,
                dedup: None,
            })
            .collect();
        let out = backend.queue.send_batch(&dlq, &batch).await.expect("send");
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    });
}

#[test]
fn a_redrive_leaves_its_start_and_its_end_in_the_audit_log() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-redrive-audit");
    let run = || on_moto(home.path(), &server, &names);
    run().arg("provision").assert().success();
    seed_dlq(&server, &names);
    run()
        .args(["redrive", "--match", "first"])
        .assert()
        .success()
        .stdout(predicate::str::contains("moved 1/"));
    let out = run().args(["audit", "--json"]).assert().success();
    let entries = json_of(&out.get_output().stdout);
    let details: Vec<&str> = entries
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| e["action"] == "redrive")
        .map(|e| e["detail"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(details.len(), 2, "the start and the end: {entries:#}");
    assert!(
        details[0].contains("moved 1/"),
        "the end, newest first: {details:?}"
    );
    assert!(details[1].starts_with("started: "), "{details:?}");
}

/// The outcome and note of each audit entry of `action`, newest first.
fn noted(entries: &serde_json::Value, action: &str) -> Vec<(String, String)> {
    entries
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| {
            (
                e["outcome"].as_str().unwrap_or_default().to_string(),
                e["note"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_operators_note_lands_in_the_audit_entry_of_redrive_and_resend() {
    let home = tempfile::tempdir().expect("tmp");
    let server = moto::MotoServer::start();
    let names = moto::unique_names("cli-note");
    let run = || on_moto(home.path(), &server, &names);
    run().arg("provision").assert().success();
    seed_dlq(&server, &names);
    run()
        .args([
            "redrive",
            "--match",
            "first",
            "--note",
            "  replayed after the v9 fix 🎉 ",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("moved 1/"));
    let out = run().args(["dlq", "list", "--json"]).assert().success();
    let listed = json_of(&out.get_output().stdout);
    let left = listed[0]["message_id"]
        .as_str()
        .expect("one left")
        .to_string();
    let gift = home.path().join("gift.json");
    std::fs::write(
        &gift,
        r#"{"recipient":"eve@example.com","amount":"5","sender":"ops"}"#,
    )
    .expect("write");
    run()
        .args([
            "dlq",
            "resend",
            &left,
            "--file",
            gift.to_str().expect("utf8"),
        ])
        .args(["--note", "amount corrected, see ticket desk"])
        .assert()
        .success();

    let out = run().args(["audit", "--json"]).assert().success();
    let entries = json_of(&out.get_output().stdout);
    let why = "replayed after the v9 fix 🎉".to_string();
    assert_eq!(
        noted(&entries, "redrive"),
        vec![("ok".to_string(), why.clone()), ("ok".to_string(), why)],
        "the start and the end of the redrive: {entries:#}"
    );
    assert_eq!(
        noted(&entries, "dlq_resend"),
        vec![("ok".into(), "amount corrected, see ticket desk".into())],
        "{entries:#}"
    );
    let provisions = entries
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["action"] == "provision");
    assert!(
        provisions.into_iter().all(|e| e.get("note").is_none()),
        "no note, no field"
    );
    run()
        .args(["audit"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "note: \"amount corrected, see ticket desk\"",
        ));
}

#[test]
fn a_bad_note_is_refused_naming_the_flag_and_the_rule() {
    let home = tempfile::tempdir().expect("tmp");
    let long = "n".repeat(281);
    for (args, rule) in [
        (
            vec!["redrive", "--all", "--note", long.as_str()],
            "at most 280 characters (has 281)",
        ),
        (
            vec!["redrive", "--all", "--note", "bad\u{1b}[31m"],
            "may not contain control, bidirectional-control or non-characters (U+001B at character 4)",
        ),
        (
            vec![
                "dlq",
                "resend",
                "m-1",
                "--file",
                "-",
                "--note",
                "a\u{202e}b",
            ],
            "U+202E at character 2",
        ),
        (
            vec!["redrive", "--all", "--note", "   "],
            "may not be blank",
        ),
        (
            vec!["redrive", "--all", "--dry-run", "--note", "why"],
            "cannot be used with",
        ),
    ] {
        cmd(home.path())
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--note").and(predicate::str::contains(rule)));
    }
}

#[test]
fn failures_by_reason_per_hour_and_day_on_the_embedded_backend() {
    let home = tempfile::tempdir().expect("tmp");
    let out = cmd(home.path())
        .args(["failures", "--by-reason", "--per", "hour", "--json"])
        .assert()
        .success();
    let counts = json_of(&out.get_output().stdout);
    assert_eq!(counts["per"], "hour");
    assert_eq!(counts["periods"].as_array().map(Vec::len), Some(24));
    assert!(counts["reasons"].is_array(), "{counts}");
    assert_eq!(counts["complete"], true);
    cmd(home.path())
        .args(["failures", "--by-reason", "--per", "day"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no failures in the last 7 days"));
    cmd(home.path())
        .args(["failures", "--by-reason", "--per", "week"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--per").and(predicate::str::contains("hour, day")));
    cmd(home.path())
        .args(["failures", "--per", "day"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--by-reason"));
}
