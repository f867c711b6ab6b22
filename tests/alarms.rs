//! Alarms: created, read back and re-run idempotently on moto (which stores alarms and lets a test
//! force their state, but never evaluates them); the same rules firing and clearing on the embedded
//! engine, with the demo's outage and with a real intake server's answers.

#[path = "support/http.rs"]
mod http;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/procs.rs"]
mod procs;

use std::collections::BTreeMap;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use tokio_util::sync::CancellationToken;

use voucherdeck_api::{RunningServer, ServeConfig};
use voucherdeck_core::backend::Names;
use voucherdeck_core::domain::{AlarmKind, AlarmState, AlarmThresholds, KeySpec, Role};
use voucherdeck_core::ports::{IntakeStats, OutgoingMessage};
use voucherdeck_embedded::Embedded;
use voucherdeck_pipeline::{
    ConsumerConfig, DemoConfig, Pipeline, PipelineConfig, ProvisionReport, spawn_demo,
};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:oncall";

fn cloudwatch(server: &moto::MotoServer) -> aws_sdk_cloudwatch::Client {
    let conf = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .http_client(voucherdeck_aws::config::https_client())
        .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
        .endpoint_url(server.endpoint())
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    aws_sdk_cloudwatch::Client::from_conf(conf)
}

fn states(report: &ProvisionReport) -> Vec<(String, bool, bool)> {
    report
        .items
        .iter()
        .filter(|i| i.kind == "alarm")
        .map(|i| (i.name.clone(), i.created, i.updated))
        .collect()
}

#[tokio::test]
async fn alarms_are_created_read_back_and_a_rerun_changes_nothing() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("alarms");
    let backend = moto::aws_backend(&server, names.clone()).await;
    let requests = backend.requests.clone();
    let p = Pipeline::new(backend.clone(), PipelineConfig::default());
    p.provision().await.expect("provision");

    let first = p.provision_alarms(Some(TOPIC)).await.expect("alarms");
    let made = states(&first);
    assert_eq!(made.len(), 9);
    assert!(
        made.iter()
            .all(|(n, created, _)| *created && n.starts_with(&names.queue))
    );

    // Read back: every rule exists, in order, none outdated; states as moto keeps them.
    let report = p.alarms().await.expect("read");
    assert_eq!(report.source, "cloudwatch");
    assert!(
        report.missing.is_empty() && report.outdated.is_empty(),
        "{report:?}"
    );
    let kinds: Vec<Option<AlarmKind>> = report.alarms.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, AlarmKind::ALL.map(Some).to_vec());

    // A re-run puts nothing: one DescribeAlarms, no PutMetricAlarm.
    let puts_before = requests.by_op().get("cloudwatch:PutMetricAlarm").copied();
    let again = p.provision_alarms(Some(TOPIC)).await.expect("again");
    assert!(states(&again).iter().all(|(_, c, u)| !c && !u), "{again:?}");
    assert_eq!(
        requests.by_op().get("cloudwatch:PutMetricAlarm").copied(),
        puts_before
    );

    // New thresholds from the settings update just the alarms they change.
    let stricter = PipelineConfig {
        alarms: AlarmThresholds {
            failure_rate_percent: 5,
            intake_429_percent: 10,
            ..AlarmThresholds::default()
        },
        ..PipelineConfig::default()
    };
    let p2 = Pipeline::new(backend, stricter);
    assert_eq!(
        p2.alarms().await.expect("read").outdated,
        vec![
            format!("{}-failure-rate", names.queue),
            format!("{}-intake-429", names.queue)
        ]
    );
    let updated = p2.provision_alarms(Some(TOPIC)).await.expect("update");
    let changed: Vec<String> = (updated.items.iter())
        .filter(|i| i.updated)
        .map(|i| i.detail.clone())
        .collect();
    assert_eq!(
        changed,
        [
            "updated: rule, threshold 10 → 5",
            "updated: rule, threshold 20 → 10"
        ],
        "{updated:?}"
    );

    // A state forced on the service reads back with its reason and time.
    let cw = cloudwatch(&server);
    cw.set_alarm_state()
        .alarm_name(format!("{}-dlq-not-empty", names.queue))
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("forced by the test")
        .send()
        .await
        .expect("set state");
    let report = p2.alarms().await.expect("read");
    let firing: Vec<_> = report.firing().collect();
    assert_eq!(firing.len(), 1);
    assert_eq!(firing[0].kind, Some(AlarmKind::DlqNotEmpty));
    assert_eq!(firing[0].reason, "forced by the test");
    assert!(firing[0].since.is_some());
    let described = cw
        .describe_alarms()
        .alarm_names(format!("{}-age-warn", names.queue))
        .send()
        .await
        .expect("describe");
    assert_eq!(described.metric_alarms()[0].alarm_actions(), [TOPIC]);

    intake_alarm_reads_back(&cw, &names.queue).await;
}

/// The intake's alarm as CloudWatch has it: a share of its requests, missing data not breaching.
async fn intake_alarm_reads_back(cw: &aws_sdk_cloudwatch::Client, queue: &str) {
    let intake = cw
        .describe_alarms()
        .alarm_names(format!("{queue}-intake-5xx"))
        .send()
        .await
        .expect("describe");
    let alarm = &intake.metric_alarms()[0];
    assert_eq!(alarm.threshold(), Some(5.0));
    assert_eq!(alarm.treat_missing_data(), Some("notBreaching"));
    let inputs: Vec<&str> = alarm
        .metrics()
        .iter()
        .filter_map(|q| q.metric_stat()?.metric()?.metric_name())
        .collect();
    assert_eq!(inputs, ["Intake5xx", "IntakeRequests"]);
}

/// The binary against this moto and these names, with a clean environment.
fn cli(env: &procs::Env, args: &[&str]) -> Command {
    Command::from_std(env.command(args))
}

#[test]
fn provision_alarms_and_status_check_from_the_command_line() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("alarms-cli");
    let env = procs::Env::new(&server.endpoint(), names.clone(), "");
    let run = |args: &[&str]| cli(&env, args);

    run(&["provision", "--alarms", "--sns-topic", "not-an-arn"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an SNS topic ARN"));
    run(&["provision", "--alarms"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "created  alarm  {}-age-warn",
            names.queue
        )));
    run(&["provision", "--alarms"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "same     alarm  {}-no-consumer",
            names.queue
        )))
        .stdout(predicate::str::contains("created").not());

    // All quiet: 0. An alarm in ALARM: 3, naming it; the JSON carries the alarms.
    run(&["status", "--check"]).assert().success();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        cloudwatch(&server)
            .set_alarm_state()
            .alarm_name(format!("{}-failure-rate", names.queue))
            .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
            .state_reason("threshold crossed")
            .send()
            .await
            .expect("set state");
    });
    run(&["status", "--check"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "alarm {}-failure-rate is in ALARM",
            names.queue
        )));
    let out = run(&["status", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["alarms"]["source"], "cloudwatch");
    assert_eq!(v["alarms"]["alarms"].as_array().map(Vec::len), Some(9));
    assert_eq!(v["alarms"]["alarms"][4]["state"], "ALARM");
    assert_eq!(v["alarms"]["alarms"][4]["kind"], "failure_rate");
}

/// Polls the alarms until `name` is in `state` or `within` has passed; true when it got there.
async fn reaches(p: &Pipeline, name: &str, state: AlarmState, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let report = p.alarms().await.expect("alarms");
        if report
            .alarms
            .iter()
            .any(|a| a.name == name && a.state == state)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_outage_fires_and_clears_the_failure_rate_alarm_in_process() {
    let embedded = Embedded::with_alarm_period(Names::default(), Duration::from_millis(500));
    let p = Pipeline::new(embedded.backend.clone(), PipelineConfig::default());
    let made = p.prepare_embedded().await.expect("prepare");
    assert_eq!(made.items.iter().filter(|i| i.kind == "alarm").count(), 9);
    let consumer = p
        .start_consumer(
            ConsumerConfig {
                publish_every: Some(Duration::from_millis(100)),
                backoff_base: Duration::from_millis(100),
                ..ConsumerConfig::default()
            },
            None,
        )
        .expect("consumer");
    let cancel = CancellationToken::new();
    let demo = DemoConfig {
        gifts_per_second: 40.0,
        poison_share: 0.0,
        poison_every: Duration::ZERO,
        outage_every: Duration::from_secs(4),
        outage_length: Duration::from_secs(2),
    };
    spawn_demo(
        p.clone(),
        embedded.store.outage_switch(),
        demo,
        cancel.clone(),
    );
    let name = "vouchers-failure-rate";
    // The first outage comes 20 s early, i.e. at once: the alarm fires, then clears after it.
    assert!(reaches(&p, name, AlarmState::Alarm, Duration::from_secs(10)).await);
    assert!(reaches(&p, name, AlarmState::Ok, Duration::from_secs(10)).await);
    let report = p.alarms().await.expect("alarms");
    let alarm = report
        .alarms
        .iter()
        .find(|a| a.name == name)
        .expect("alarm");
    assert!(alarm.reason.contains("datapoints"), "{}", alarm.reason);
    cancel.cancel();
    consumer.shutdown();
}

#[tokio::test]
async fn no_consumer_and_dlq_alarms_fire_and_clear_on_the_embedded_engine() {
    let embedded = Embedded::with_alarm_period(Names::default(), Duration::from_millis(300));
    let cfg = PipelineConfig {
        alarms: AlarmThresholds {
            no_consumer: Duration::from_mins(2),
            ..AlarmThresholds::default()
        },
        ..PipelineConfig::default()
    };
    let p = Pipeline::new(embedded.backend.clone(), cfg);
    p.prepare_embedded().await.expect("prepare");
    let q = p.queue().await.expect("queue");
    let dlq = p.dlq().await.expect("dlq");
    let msg = |i: usize| OutgoingMessage {
        id: i.to_string(),
        body: "x".into(),
        attributes: BTreeMap::new(),
        delay: None,
        group: None,
        dedup: None,
    };
    // A period of watching an empty DLQ first: growth is a change from one period to the next.
    assert!(
        reaches(
            &p,
            "vouchers-dlq-growing",
            AlarmState::Ok,
            Duration::from_secs(1)
        )
        .await
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    p.alarms().await.expect("alarms");
    p.backend()
        .queue
        .send_batch(&q, &[msg(0)])
        .await
        .expect("send");
    p.backend()
        .queue
        .send_batch(&dlq, &[msg(1)])
        .await
        .expect("send");
    let wait = Duration::from_secs(5);
    assert!(reaches(&p, "vouchers-dlq-growing", AlarmState::Alarm, wait).await);
    assert!(reaches(&p, "vouchers-dlq-not-empty", AlarmState::Alarm, wait).await);
    // Two periods with a message waiting and nothing deleted: no consumer.
    assert!(reaches(&p, "vouchers-no-consumer", AlarmState::Alarm, wait).await);
    assert!(
        reaches(&p, "vouchers-dlq-growing", AlarmState::Ok, wait).await,
        "it stopped growing"
    );

    p.purge_dlq(None).await.expect("purge");
    let got = p
        .backend()
        .queue
        .receive(
            &q,
            voucherdeck_core::ports::ReceiveRequest::new(1, Duration::ZERO),
        )
        .await
        .expect("receive");
    p.backend()
        .queue
        .delete_batch(&q, &[got[0].receipt_entry(0)])
        .await
        .expect("delete");
    assert!(reaches(&p, "vouchers-dlq-not-empty", AlarmState::Ok, wait).await);
    assert!(reaches(&p, "vouchers-no-consumer", AlarmState::Ok, wait).await);
}

/// An endpoint that answers every request with `status` and an empty body, as one without the
/// service does; returns its URL.
fn endpoint_without_the_service(status: u16) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 {status} Nope\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    url
}

#[tokio::test]
async fn an_endpoint_without_cloudwatch_means_no_alarms_not_a_failure() {
    for status in [404, 501] {
        let conf = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .http_client(voucherdeck_aws::config::https_client())
            .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
            .endpoint_url(endpoint_without_the_service(status))
            .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled())
            .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .build();
        let alarms = voucherdeck_aws::CloudWatchAlarms::new(
            aws_sdk_cloudwatch::Client::from_conf(conf),
            voucherdeck_core::ports::RequestCounter::default(),
        );
        let embedded = Embedded::new(Names::default());
        Pipeline::new(embedded.backend.clone(), PipelineConfig::default())
            .prepare_embedded()
            .await
            .expect("queues");
        let backend = voucherdeck_core::backend::Backend {
            alarms: std::sync::Arc::new(alarms),
            ..embedded.backend
        };
        let p = Pipeline::new(backend, PipelineConfig::default());
        let report = p.alarms().await.expect("a report, not an error");
        assert_eq!(
            report.unavailable.as_deref(),
            Some(voucherdeck_pipeline::NO_CLOUDWATCH_ALARMS),
            "HTTP {status}"
        );
        assert!(report.alarms.is_empty());
        let status_report = p.status(0).await.expect("status");
        assert!(
            status_report.warnings.is_empty(),
            "{:?}",
            status_report.warnings
        );
        let e = p
            .provision_alarms(None)
            .await
            .expect_err("cannot create them");
        assert!(
            matches!(e, voucherdeck_core::ports::BackendError::Unsupported(_)),
            "HTTP {status}: {e}"
        );
    }
}

/// The one-minute sums of `Voucherdeck` metric `name` for `queue`, as query `m<i>`.
fn sum_query(i: usize, name: &str, queue: &str) -> aws_sdk_cloudwatch::types::MetricDataQuery {
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
    let metric = Metric::builder()
        .namespace("Voucherdeck")
        .metric_name(name)
        .dimensions(Dimension::builder().name("Queue").value(queue).build())
        .build();
    MetricDataQuery::builder()
        .id(format!("m{i}"))
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(60)
                .stat("Sum")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn the_intakes_figures_reach_cloudwatch_where_its_alarms_read_them() {
    let server = moto::MotoServer::start();
    let names = moto::unique_names("intake-cw");
    let backend = moto::aws_backend(&server, names.clone()).await;
    let puts = || {
        backend
            .requests
            .by_op()
            .get("cloudwatch:PutMetricData")
            .copied()
            .unwrap_or(0)
    };
    backend
        .metrics
        .publish_intake(&IntakeStats::default())
        .await
        .expect("nothing");
    assert_eq!(puts(), 0, "nothing answered, no call");
    let answered = IntakeStats {
        requests: 40,
        server_errors: 3,
        throttled: 9,
        audit_lost: 0,
    };
    backend
        .metrics
        .publish_intake(&answered)
        .await
        .expect("publish");
    assert_eq!(puts(), 1, "one call for the three figures");

    let now = std::time::SystemTime::now();
    let read = cloudwatch(&server)
        .get_metric_data()
        .set_metric_data_queries(Some(vec![
            sum_query(0, "IntakeRequests", &names.queue),
            sum_query(1, "Intake5xx", &names.queue),
            sum_query(2, "Intake429", &names.queue),
        ]))
        .start_time((now - Duration::from_mins(5)).into())
        .end_time((now + Duration::from_mins(1)).into())
        .send()
        .await
        .expect("read back");
    let mut sums: Vec<(String, f64)> = read
        .metric_data_results()
        .iter()
        .map(|r| {
            (
                r.id().unwrap_or_default().to_string(),
                r.values().iter().sum(),
            )
        })
        .collect();
    sums.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        sums,
        [
            ("m0".to_string(), 40.0),
            ("m1".to_string(), 3.0),
            ("m2".to_string(), 9.0)
        ]
    );
}

fn serve_config(per_ip_per_minute: u32, metrics_every: Duration) -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        trusted_proxies: vec![],
        per_ip_per_minute,
        metrics_every: Some(metrics_every),
        ..ServeConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_audit_entries_fire_the_audit_lost_alarm_which_clears_after() {
    let embedded = Embedded::with_alarm_period(Names::default(), Duration::from_millis(500));
    let p = Pipeline::new(embedded.backend.clone(), PipelineConfig::default());
    p.prepare_embedded().await.expect("prepare");
    let key = p
        .create_key(&KeySpec {
            sender: "acme".into(),
            role: Role::Gifter,
            per_minute: 60,
            daily: 1000,
        })
        .await
        .expect("key")
        .key;
    let server = RunningServer::start(
        Pipeline::new(embedded.backend.clone(), PipelineConfig::default()),
        serve_config(0, Duration::from_millis(100)),
    )
    .await
    .expect("server");
    let lost = "vouchers-audit-lost";
    assert!(reaches(&p, lost, AlarmState::Ok, Duration::from_secs(1)).await);

    // The audit table refuses the server (a role without the right): its gifts' entries are lost.
    embedded
        .audit
        .fail_every_write(Some(voucherdeck_core::ports::BackendError::AccessDenied(
            "dynamodb:PutItem (simulated)".into(),
        )));
    let auth = format!("Bearer {key}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let body = r#"{"recipient":"ada@example.com","amount":"5"}"#;
    let r = http::send(server.addr(), "POST", "/v1/vouchers", &headers, Some(body)).await;
    assert_eq!(r.status, 202, "the gift is queued all the same");
    let wait = Duration::from_secs(10);
    assert!(reaches(&p, lost, AlarmState::Alarm, wait).await);

    // Written again: no loss in the following periods clears it.
    embedded.audit.fail_every_write(None);
    assert!(reaches(&p, lost, AlarmState::Ok, wait).await);
    server.stop().await.expect("stop");
    assert_eq!(embedded.metrics.intake_published().audit_lost, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intakes_429s_fire_its_alarm_which_clears_when_they_stop() {
    let embedded = Embedded::with_alarm_period(Names::default(), Duration::from_millis(500));
    let p = Pipeline::new(embedded.backend.clone(), PipelineConfig::default());
    p.prepare_embedded().await.expect("prepare");
    let key = p
        .create_key(&KeySpec {
            sender: "acme".into(),
            role: Role::Gifter,
            per_minute: 2,
            daily: 1000,
        })
        .await
        .expect("key")
        .key;
    let server = RunningServer::start(
        Pipeline::new(embedded.backend.clone(), PipelineConfig::default()),
        serve_config(0, Duration::from_millis(100)),
    )
    .await
    .expect("server");
    let (limited, five) = ("vouchers-intake-429", "vouchers-intake-5xx");
    assert!(reaches(&p, limited, AlarmState::Ok, Duration::from_secs(1)).await);

    // A sender past its per-minute limit: nearly every answer is a 429.
    let stop = CancellationToken::new();
    let sender = {
        let (stop, addr) = (stop.clone(), server.addr());
        let auth = format!("Bearer {key}");
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.is_cancelled() {
                let headers = [
                    ("Authorization", auth.as_str()),
                    ("Content-Type", "application/json"),
                ];
                let body = r#"{"recipient":"ada@example.com","amount":"5"}"#;
                let r = http::send(addr, "POST", "/v1/vouchers", &headers, Some(body)).await;
                statuses.push(r.status);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            statuses
        })
    };
    let wait = Duration::from_secs(10);
    assert!(reaches(&p, limited, AlarmState::Alarm, wait).await);
    let report = p.alarms().await.expect("alarms");
    let state = |name: &str| {
        report
            .alarms
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.state)
    };
    assert_eq!(state(five), Some(AlarmState::Ok), "no 5xx answered");
    stop.cancel();
    let statuses = sender.await.expect("sender");
    assert_eq!(&statuses[..2], [202, 202], "{statuses:?}");
    assert!(statuses[2..].iter().all(|s| *s == 429), "{statuses:?}");

    // No more requests: no datapoints, which do not breach.
    assert!(reaches(&p, limited, AlarmState::Ok, wait).await);
    server.stop().await.expect("stop");
    let published = embedded.metrics.intake_published();
    assert_eq!(
        (
            published.requests,
            published.throttled,
            published.server_errors
        ),
        (statuses.len() as u64, statuses.len() as u64 - 2, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intake_publishes_nothing_while_idle_and_what_is_left_when_it_stops() {
    // Queues never made: `/readyz` answers 503.
    let embedded = Embedded::new(Names::default());
    let server = RunningServer::start(
        Pipeline::new(embedded.backend.clone(), PipelineConfig::default()),
        serve_config(3, Duration::from_hours(1)),
    )
    .await
    .expect("server");
    let mut statuses = Vec::new();
    for path in ["/healthz", "/readyz", "/nowhere", "/healthz"] {
        statuses.push(
            http::send(server.addr(), "GET", path, &[], None)
                .await
                .status,
        );
    }
    assert_eq!(statuses, [200, 503, 404, 429]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let puts = || {
        embedded
            .backend
            .requests
            .by_op()
            .get("cloudwatch:PutMetricData")
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(puts(), 0, "not before the hour is up");
    server.stop().await.expect("stop");
    assert_eq!(puts(), 1, "once, when it stopped");
    assert_eq!(
        embedded.metrics.intake_published(),
        IntakeStats {
            requests: 4,
            server_errors: 1,
            throttled: 1,
            audit_lost: 0
        }
    );
}
