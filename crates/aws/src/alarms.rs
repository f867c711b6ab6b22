//! [`Alarms`] on CloudWatch: each rule becomes one `PutMetricAlarm` (one metric, or metric math over
//! several), and `DescribeAlarms` reads them back with their state. Both go through
//! `send_maybe_unsupported`, so an endpoint without CloudWatch degrades instead of failing.

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat,
    Statistic,
};

use super::call::Call;
use voucherdeck_core::domain::{
    ALARM_PERIOD_SECS, AlarmKind, AlarmState, AlarmStatus, AlarmWatch, Comparison, MetricRef,
    Timestamp, alarm_watch,
};
use voucherdeck_core::ports::{
    AlarmConfig, AlarmRecord, AlarmSpec, Alarms, BackendError, RequestCounter, Result,
};

/// The namespace the consumer and the intake publish to (and its dimension naming the queue).
pub(crate) const NAMESPACE: &str = voucherdeck_core::ports::METRICS_NAMESPACE;
pub(crate) const QUEUE_DIMENSION: &str = voucherdeck_core::ports::QUEUE_DIMENSION;
/// Most alarm names one `DescribeAlarms` takes.
const NAMES_MAX: usize = 100;
const PERIOD_SECS: i32 = ALARM_PERIOD_SECS as i32;

/// CloudWatch alarms behind the [`Alarms`] port.
#[derive(Debug, Clone)]
pub struct CloudWatchAlarms {
    client: Client,
    requests: RequestCounter,
}

impl CloudWatchAlarms {
    pub fn new(client: Client, requests: RequestCounter) -> Self {
        CloudWatchAlarms { client, requests }
    }
}

/// A metric with one dimension.
pub(super) fn metric(namespace: &str, name: &str, dimension: &str, value: &str) -> Metric {
    Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .dimensions(Dimension::builder().name(dimension).value(value).build())
        .build()
}

/// One statistic of `metric` a minute; `returned`: its datapoints are in the answer (not only an
/// expression's input).
pub(super) fn stat_query(id: &str, metric: Metric, stat: &str, returned: bool) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(PERIOD_SECS)
                .stat(stat)
                .build(),
        )
        .return_data(returned)
        .build()
}

fn expression(label: &str, expr: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id("e")
        .expression(expr)
        .label(label)
        .return_data(true)
        .build()
}

/// What an alarm watches, in the SDK's terms: one metric's statistic, or metric math over
/// several (the last query).
enum Watch {
    Metric(Metric, Statistic),
    Math(Vec<MetricDataQuery>),
}

fn sdk_metric(m: &MetricRef) -> Metric {
    metric(m.namespace, m.name, m.dimension, &m.value)
}

/// What an alarm of this kind watches (the rule's [`alarm_watch`], in SDK types).
fn watch(spec: &AlarmSpec) -> Watch {
    match alarm_watch(spec.rule.kind, &spec.queue, &spec.dlq) {
        AlarmWatch::Metric { metric, stat } => {
            Watch::Metric(sdk_metric(&metric), Statistic::from(stat))
        }
        AlarmWatch::Math {
            inputs,
            expression: expr,
            label,
        } => {
            let mut queries: Vec<MetricDataQuery> = inputs
                .iter()
                .map(|i| stat_query(i.id, sdk_metric(&i.metric), i.stat, false))
                .collect();
            queries.push(expression(label, expr));
            Watch::Math(queries)
        }
    }
}

fn timestamp(t: Option<&DateTime>) -> Option<Timestamp> {
    t.map(|t| {
        t.to_millis()
            .map_or_else(|_| Timestamp(t.secs() * 1000), Timestamp)
    })
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// An alarm as read back; `kind` is the rule its name ends with.
fn record(a: &MetricAlarm) -> AlarmRecord {
    let name = a.alarm_name().unwrap_or_default().to_string();
    let kind = AlarmKind::ALL
        .into_iter()
        .find(|k| name.ends_with(&format!("-{}", k.suffix())));
    AlarmRecord {
        status: AlarmStatus {
            kind,
            state: AlarmState::parse(a.state_value().map_or("", |s| s.as_str())),
            reason: a.state_reason().unwrap_or_default().to_string(),
            since: timestamp(a.state_updated_timestamp()),
            name,
        },
        config: AlarmConfig {
            description: a.alarm_description().unwrap_or_default().to_string(),
            threshold: a.threshold().unwrap_or(f64::NAN),
            comparison: a
                .comparison_operator()
                .and_then(|c| Comparison::parse(c.as_str())),
            periods: a.evaluation_periods().unwrap_or(0).max(0) as u32,
            datapoints: a
                .datapoints_to_alarm()
                .or(a.evaluation_periods())
                .unwrap_or(0)
                .max(0) as u32,
            alarm_actions: sorted(a.alarm_actions()),
            ok_actions: sorted(a.ok_actions()),
        },
    }
}

/// Alarms are never "not found" (an unknown name is simply not listed): a 404 means the endpoint
/// has no CloudWatch at all.
fn no_cloudwatch(e: BackendError) -> BackendError {
    match e {
        BackendError::NotFound(why) => BackendError::Unsupported(why),
        other => other,
    }
}

#[async_trait]
impl Alarms for CloudWatchAlarms {
    async fn describe(&self, names: &[String]) -> Result<Vec<AlarmRecord>> {
        let mut out = Vec::new();
        for chunk in names.chunks(NAMES_MAX) {
            let call = Call::new(&self.requests, "cloudwatch:DescribeAlarms", "alarms");
            let request = self
                .client
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .alarm_types(AlarmType::MetricAlarm)
                .max_records(NAMES_MAX as i32)
                .send();
            let answer = call
                .send_maybe_unsupported(request)
                .await
                .map_err(no_cloudwatch)?;
            out.extend(answer.metric_alarms().iter().map(record));
        }
        Ok(out)
    }

    async fn put(&self, spec: &AlarmSpec) -> Result<()> {
        let config = spec.config();
        let request = match watch(spec) {
            Watch::Metric(m, stat) => self
                .client
                .put_metric_alarm()
                .namespace(m.namespace().unwrap_or_default())
                .metric_name(m.metric_name().unwrap_or_default())
                .set_dimensions(Some(m.dimensions().to_vec()))
                .statistic(stat)
                .period(PERIOD_SECS),
            Watch::Math(queries) => self.client.put_metric_alarm().set_metrics(Some(queries)),
        };
        let request = request
            .alarm_name(&spec.rule.name)
            .alarm_description(&config.description)
            .actions_enabled(!spec.actions.is_empty())
            .set_alarm_actions(Some(config.alarm_actions.clone()))
            .set_ok_actions(Some(config.ok_actions.clone()))
            .evaluation_periods(spec.rule.periods as i32)
            .datapoints_to_alarm(spec.rule.datapoints as i32)
            .threshold(spec.rule.threshold)
            .comparison_operator(ComparisonOperator::from(spec.rule.comparison.as_str()))
            .treat_missing_data("notBreaching")
            .send();
        Call::new(&self.requests, "cloudwatch:PutMetricAlarm", &spec.rule.name)
            .send_maybe_unsupported(request)
            .await
            .map_err(no_cloudwatch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voucherdeck_core::domain::{AlarmThresholds, alarm_rules};

    #[test]
    fn metric_math_alarms_on_its_last_expression() {
        for rule in alarm_rules("q", &AlarmThresholds::default()) {
            let spec = AlarmSpec {
                rule,
                queue: "q".into(),
                dlq: "q-dlq".into(),
                actions: vec![],
            };
            if let Watch::Math(qs) = watch(&spec) {
                let returned: Vec<_> = qs
                    .iter()
                    .filter(|q| q.return_data() == Some(true))
                    .collect();
                assert_eq!(returned.len(), 1, "{:?}", spec.rule.kind);
                assert!(returned[0].expression().is_some());
                assert_eq!(qs.last(), Some(returned[0]));
            }
        }
    }
}
