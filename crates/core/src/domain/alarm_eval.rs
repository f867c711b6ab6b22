//! How an alarm rule's datapoints are made from what a period saw (the same metric math CloudWatch
//! runs) and how the newest of them decide its state (a missing datapoint does not breach).

use super::alarm::{AlarmKind, AlarmRule, AlarmState, Comparison};

/// What one period saw: maxima of the levels, sums of the counts; `None` where nothing was
/// measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PeriodFigures {
    /// Most messages visible in the source queue.
    pub queue_visible: Option<f64>,
    /// Oldest message in the source queue, seconds.
    pub queue_age_secs: Option<f64>,
    /// Most messages visible in the DLQ.
    pub dlq_visible: Option<f64>,
    /// Messages deleted from the source queue.
    pub deleted: Option<f64>,
    /// Vouchers the consumer persisted.
    pub persisted: Option<f64>,
    /// Failures the consumer recorded.
    pub failed: Option<f64>,
    /// Requests the intake API answered.
    pub intake_requests: Option<f64>,
    /// Its answers with a 5xx status.
    pub intake_5xx: Option<f64>,
    /// Its answers with status 429.
    pub intake_429: Option<f64>,
    /// Audit entries it could not write.
    pub audit_lost: Option<f64>,
}

/// The state a rule's datapoints decide, and why, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub state: AlarmState,
    pub reason: String,
}

impl AlarmRule {
    /// The datapoint of one period, given the one before it (a growth needs both).
    pub fn datapoint(&self, this: &PeriodFigures, before: Option<&PeriodFigures>) -> Option<f64> {
        match self.kind {
            AlarmKind::AgeWarn | AlarmKind::AgeAlarm => this.queue_age_secs,
            AlarmKind::DlqNotEmpty => this.dlq_visible,
            AlarmKind::DlqGrowing => Some(this.dlq_visible? - before?.dlq_visible?),
            AlarmKind::FailureRate => {
                if this.failed.is_none() && this.persisted.is_none() {
                    return None;
                }
                let (f, p) = (this.failed.unwrap_or(0.0), this.persisted.unwrap_or(0.0));
                Some(percent(f, f + p))
            }
            AlarmKind::NoConsumer => {
                let waiting = this.queue_visible? > 0.0;
                let deleting = this.deleted.unwrap_or(0.0) > 0.0;
                Some(if waiting && !deleting { 1.0 } else { 0.0 })
            }
            // No requests answered, no datapoint: an idle or absent intake never fires.
            AlarmKind::Intake5xx => Some(percent(
                this.intake_5xx.unwrap_or(0.0),
                this.intake_requests?,
            )),
            AlarmKind::Intake429 => Some(percent(
                this.intake_429.unwrap_or(0.0),
                this.intake_requests?,
            )),
            // Nothing published, no datapoint (does not breach); any loss breaches.
            AlarmKind::AuditLost => this.audit_lost,
        }
    }

    /// The state the newest datapoints decide (oldest first; a missing one does not breach, as
    /// CloudWatch's `notBreaching`): ALARM when at least `datapoints` of the last `periods` breach.
    pub fn evaluate(&self, datapoints: &[Option<f64>]) -> Evaluation {
        let window = &datapoints[datapoints.len().saturating_sub(self.periods as usize)..];
        let breaching = window
            .iter()
            .flatten()
            .filter(|v| self.comparison.breaches(**v, self.threshold))
            .count();
        let shown: Vec<String> = window
            .iter()
            .map(|v| v.map_or_else(|| "–".to_string(), |v| format!("{v:.1}")))
            .collect();
        let state = if breaching >= self.datapoints as usize {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        let reason = format!(
            "{breaching} of the last {} datapoints [{}] {} the threshold ({}); {} fire{} it",
            window.len(),
            shown.join(", "),
            match self.comparison {
                Comparison::GreaterThanThreshold => "were above",
                Comparison::GreaterThanOrEqualToThreshold => "reached",
            },
            self.threshold,
            self.datapoints,
            if self.datapoints == 1 { "s" } else { "" },
        );
        Evaluation { state, reason }
    }
}

/// `part` in percent of `whole`; 0 of nothing.
fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AlarmThresholds, alarm_rules};

    fn rule(kind: AlarmKind) -> AlarmRule {
        alarm_rules("vouchers", &AlarmThresholds::default())
            .into_iter()
            .find(|r| r.kind == kind)
            .expect("rule")
    }

    #[test]
    fn datapoints_follow_the_metric_math() {
        let p = |visible, dlq, deleted, persisted, failed| PeriodFigures {
            queue_visible: visible,
            queue_age_secs: Some(12.0),
            dlq_visible: dlq,
            deleted,
            persisted,
            failed,
            ..PeriodFigures::default()
        };
        let before = p(Some(3.0), Some(2.0), Some(1.0), None, None);
        let now = p(Some(5.0), Some(6.0), None, Some(30.0), Some(10.0));
        let dp = |k| rule(k).datapoint(&now, Some(&before));
        assert_eq!(dp(AlarmKind::AgeWarn), Some(12.0));
        assert_eq!(dp(AlarmKind::DlqGrowing), Some(4.0));
        assert_eq!(dp(AlarmKind::FailureRate), Some(25.0));
        assert_eq!(
            dp(AlarmKind::NoConsumer),
            Some(1.0),
            "visible, none deleted"
        );
        assert_eq!(
            rule(AlarmKind::NoConsumer).datapoint(&before, None),
            Some(0.0)
        );
        assert_eq!(rule(AlarmKind::DlqGrowing).datapoint(&now, None), None);
        assert_eq!(
            rule(AlarmKind::FailureRate).datapoint(&PeriodFigures::default(), None),
            None
        );
    }

    #[test]
    fn evaluation_needs_enough_breaching_datapoints() {
        let r = rule(AlarmKind::FailureRate);
        assert_eq!(r.evaluate(&[]).state, AlarmState::Ok);
        assert_eq!(r.evaluate(&[Some(50.0)]).state, AlarmState::Ok);
        let fired = r.evaluate(&[Some(0.0), Some(50.0), Some(11.0)]);
        assert_eq!(fired.state, AlarmState::Alarm);
        assert!(
            fired
                .reason
                .starts_with("2 of the last 2 datapoints [50.0, 11.0]"),
            "{}",
            fired.reason
        );
        assert_eq!(
            r.evaluate(&[Some(50.0), None]).state,
            AlarmState::Ok,
            "missing is not breaching"
        );
        let age = rule(AlarmKind::AgeWarn);
        assert_eq!(age.evaluate(&[Some(60.0)]).state, AlarmState::Alarm);
        assert_eq!(age.evaluate(&[Some(59.0)]).state, AlarmState::Ok);
        assert_eq!(AlarmState::parse("ALARM"), AlarmState::Alarm);
        assert_eq!(AlarmState::parse("?"), AlarmState::InsufficientData);
    }

    #[test]
    fn intake_rates_are_shares_of_requests_and_an_idle_intake_never_fires() {
        let five = rule(AlarmKind::Intake5xx);
        let limited = rule(AlarmKind::Intake429);
        assert_eq!((five.threshold, limited.threshold), (5.0, 20.0));
        let answered = |requests, e5, e429| PeriodFigures {
            intake_requests: requests,
            intake_5xx: e5,
            intake_429: e429,
            ..PeriodFigures::default()
        };
        let busy = answered(Some(200.0), Some(12.0), Some(50.0));
        assert_eq!(five.datapoint(&busy, None), Some(6.0));
        assert_eq!(limited.datapoint(&busy, None), Some(25.0));
        let clean = answered(Some(40.0), None, None);
        assert_eq!(five.datapoint(&clean, None), Some(0.0));
        let idle = answered(None, None, None);
        assert_eq!(five.datapoint(&idle, None), None);
        assert_eq!(limited.datapoint(&idle, None), None);
        assert_eq!(
            five.evaluate(&[Some(6.0), Some(6.0)]).state,
            AlarmState::Alarm
        );
        assert_eq!(
            five.evaluate(&[Some(6.0), Some(5.0)]).state,
            AlarmState::Ok,
            "above, not at"
        );
        assert_eq!(limited.evaluate(&[Some(25.0), None]).state, AlarmState::Ok);
        assert_eq!(limited.evaluate(&[None, None]).state, AlarmState::Ok);
    }

    #[test]
    fn one_lost_audit_entry_fires_and_a_quiet_period_clears() {
        let lost = rule(AlarmKind::AuditLost);
        let published = |n| PeriodFigures {
            intake_requests: Some(10.0),
            audit_lost: n,
            ..PeriodFigures::default()
        };
        assert_eq!(lost.datapoint(&published(Some(1.0)), None), Some(1.0));
        assert_eq!(lost.datapoint(&PeriodFigures::default(), None), None);
        assert_eq!(lost.evaluate(&[Some(1.0)]).state, AlarmState::Alarm);
        assert_eq!(lost.evaluate(&[Some(1.0), Some(0.0)]).state, AlarmState::Ok);
        assert_eq!(lost.evaluate(&[None]).state, AlarmState::Ok);
    }
}
