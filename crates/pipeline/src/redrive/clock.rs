//! The DLQ's own clock, for a copy redrive's cut-off. SQS stamps each message with its clock
//! (`SentTimestamp`, `ApproximateFirstReceiveTimestamp`), which can differ from this machine's: the
//! cut-off is set in SQS's time, from what the redrive's first receive tells of it.

use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::ReceivedMessage;

/// A message sent this close after the start still counts as there at the start.
const MARGIN_MS: i64 = 1000;

/// When, in SQS's time, the redrive began.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueueClock {
    local_start: Timestamp,
    cutoff: Option<Timestamp>,
}

impl QueueClock {
    pub(super) fn new(local_start: Timestamp) -> Self {
        QueueClock {
            local_start,
            cutoff: None,
        }
    }

    /// Learns SQS's time from the first receive that returns messages, `asked_at` being this
    /// machine's time just before it: a message received for the first time carries SQS's time of
    /// that very receive (its first-receive stamp), which gives the offset between the two clocks;
    /// and SQS's time is at least its newest `SentTimestamp`. The cut-off is fixed then.
    pub(super) fn observe(&mut self, asked_at: Timestamp, got: &[ReceivedMessage]) {
        if self.cutoff.is_some() || got.is_empty() {
            return;
        }
        let offset = got
            .iter()
            .filter(|m| m.receive_count == 1)
            .filter_map(|m| m.first_received_at)
            .map(|t| t.millis() - asked_at.millis())
            .max()
            .unwrap_or(0);
        let start = Timestamp(self.local_start.millis() + offset);
        let newest_sent = got.iter().filter_map(|m| m.sent_at).max();
        let start = newest_sent.map_or(start, |n| start.max(n));
        self.cutoff = Some(Timestamp(start.millis() + MARGIN_MS));
    }

    /// Whether SQS says the message was sent to the DLQ after the redrive began.
    pub(super) fn arrived_after_start(&self, m: &ReceivedMessage) -> bool {
        m.sent_at
            .zip(self.cutoff)
            .is_some_and(|(sent, cutoff)| sent > cutoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(sent: i64, first: Option<i64>, receive_count: u32) -> ReceivedMessage {
        ReceivedMessage {
            message_id: format!("m{sent}"),
            receipt: "r".into(),
            body: "b".into(),
            attributes: std::collections::BTreeMap::new(),
            receive_count,
            sent_at: Some(Timestamp(sent)),
            first_received_at: first.map(Timestamp),
            sender_id: None,
            group: None,
        }
    }

    #[test]
    fn the_cutoff_follows_sqs_when_this_clock_is_ahead() {
        // This machine is 5 minutes ahead of SQS: started at 1_300_000 local, 1_000_000 SQS time.
        let mut c = QueueClock::new(Timestamp(1_300_000));
        c.observe(Timestamp(1_300_050), &[msg(900_000, Some(1_000_060), 1)]);
        assert!(
            c.arrived_after_start(&msg(1_002_000, None, 1)),
            "a message that fails again 2 s later is new"
        );
        assert!(!c.arrived_after_start(&msg(999_000, None, 1)));
    }

    #[test]
    fn the_cutoff_follows_sqs_when_this_clock_is_behind() {
        // This machine is 5 minutes behind, and no message tells SQS's time of receive: the newest
        // SentTimestamp still shows that SQS is later than this clock.
        let mut c = QueueClock::new(Timestamp(700_000));
        c.observe(Timestamp(700_050), &[msg(999_000, Some(999_500), 3)]);
        assert!(!c.arrived_after_start(&msg(999_900, None, 1)));
        assert!(c.arrived_after_start(&msg(1_010_000, None, 1)));
    }

    #[test]
    fn nothing_is_new_before_the_first_receive() {
        let mut c = QueueClock::new(Timestamp(0));
        assert!(!c.arrived_after_start(&msg(5, None, 1)));
        c.observe(Timestamp(0), &[]);
        assert!(!c.arrived_after_start(&msg(5_000, None, 1)));
    }
}
