//! Messages the queue will accept, in calls it will accept: each message brought within the
//! queue's MaximumMessageSize by degrading its attributes (never its body), and the messages packed
//! into `SendMessageBatch` calls of at most 10 entries and 1 MiB in all. One oversize message can
//! then no longer make a whole batch fail.

use std::collections::BTreeMap;

use super::attributes::{ERROR_KIND, ERROR_MESSAGE, SOURCE_QUEUE, is_diagnosis};
use voucherdeck_core::domain::limits::{MESSAGE_SIZE_MAX, SQS_BATCH_MAX, message_size};
use voucherdeck_core::ports::OutgoingMessage;

/// The reason is first cut to this many bytes before anything else is given up.
const REASON_FLOOR: usize = 200;

/// One way of making a message's attributes smaller, given by how many bytes it is over.
type Degrade = fn(&mut BTreeMap<String, String>, usize);

/// Batches for `messages` within the limits, in order, and the messages that cannot be sent even
/// with no attributes at all (a body larger than `max_size`).
pub(crate) fn pack(
    messages: Vec<OutgoingMessage>,
    max_size: usize,
) -> (Vec<Vec<OutgoingMessage>>, Vec<OutgoingMessage>) {
    let mut batches: Vec<Vec<OutgoingMessage>> = Vec::new();
    let mut too_large = Vec::new();
    let mut total = 0;
    for mut m in messages {
        if !fit(&mut m, max_size) {
            too_large.push(m);
            continue;
        }
        let size = message_size(&m.body, &m.attributes);
        match batches.last_mut() {
            Some(b) if b.len() < SQS_BATCH_MAX && total + size <= MESSAGE_SIZE_MAX => {
                total += size;
                b.push(m);
            }
            _ => {
                total = size;
                batches.push(vec![m]);
            }
        }
    }
    (batches, too_large)
}

/// Brings a message within `max_size` bytes, giving up as little as it must, in this order: the
/// reason beyond 200 bytes, the message's own attributes, the rest of the reason, the diagnosis
/// but its kind and source queue, every attribute. The body is never changed. False when even
/// the bare body is too large.
pub(crate) fn fit(m: &mut OutgoingMessage, max_size: usize) -> bool {
    let over = |m: &OutgoingMessage| message_size(&m.body, &m.attributes).saturating_sub(max_size);
    let steps: [Degrade; 5] = [
        |a, excess| shorten_reason(a, excess, REASON_FLOOR),
        |a, _| a.retain(|k, _| is_diagnosis(k)),
        |a, excess| shorten_reason(a, excess, 0),
        |a, _| a.retain(|k, _| k == ERROR_KIND || k == SOURCE_QUEUE),
        |a, _| a.clear(),
    ];
    for step in steps {
        let excess = over(m);
        if excess == 0 {
            return true;
        }
        step(&mut m.attributes, excess);
    }
    over(m) == 0
}

/// Cuts the reason by `excess` bytes (and the `…` that marks the cut), keeping at least `floor`
/// bytes of it; an emptied reason is dropped.
fn shorten_reason(attributes: &mut BTreeMap<String, String>, excess: usize, floor: usize) {
    let Some(reason) = attributes.get_mut(ERROR_MESSAGE) else {
        return;
    };
    let mut keep = reason
        .len()
        .saturating_sub(excess + '…'.len_utf8())
        .max(floor);
    if keep >= reason.len() {
        return;
    }
    while !reason.is_char_boundary(keep) {
        keep -= 1;
    }
    reason.truncate(keep);
    if keep == 0 {
        attributes.remove(ERROR_MESSAGE);
    } else {
        reason.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlq::attributes::{RECEIVE_COUNT, WORKER};

    fn letter(id: usize, body_len: usize) -> OutgoingMessage {
        let attributes = BTreeMap::from([
            (ERROR_KIND.to_string(), "not_json".to_string()),
            (ERROR_MESSAGE.to_string(), "é".repeat(500)),
            (WORKER.to_string(), "w1".to_string()),
            (SOURCE_QUEUE.to_string(), "vouchers".to_string()),
            (RECEIVE_COUNT.to_string(), "1".to_string()),
            ("trace".to_string(), "t".repeat(100)),
        ]);
        OutgoingMessage {
            id: id.to_string(),
            body: "b".repeat(body_len),
            attributes,
            delay: None,
            group: None,
            dedup: None,
        }
    }

    fn size(m: &OutgoingMessage) -> usize {
        message_size(&m.body, &m.attributes)
    }

    #[test]
    fn a_message_that_fits_is_untouched() {
        let mut m = letter(0, 100);
        let before = m.clone();
        assert!(fit(&mut m, 10_000));
        assert_eq!(m, before);
    }

    #[test]
    fn the_reason_is_cut_first_and_the_body_never() {
        let full = size(&letter(0, 1000));
        let mut m = letter(0, 1000);
        assert!(fit(&mut m, full - 300));
        assert_eq!(m.body.len(), 1000);
        let cut = full - size(&m);
        assert!(
            (300..=301).contains(&cut),
            "cut as much as needed (to a char boundary): {cut}"
        );
        assert!(m.attributes[ERROR_MESSAGE].ends_with('…'));
        assert!(m.attributes.contains_key("trace"), "own attributes kept");

        let mut m = letter(0, 1000);
        assert!(fit(&mut m, full - 900));
        assert!(
            !m.attributes.contains_key("trace"),
            "own attributes go next"
        );
        assert!(m.attributes[ERROR_MESSAGE].len() > 100);

        let mut m = letter(0, 1000);
        assert!(fit(&mut m, 1000 + 80));
        let kept: Vec<&str> = m.attributes.keys().map(String::as_str).collect();
        assert_eq!(kept, [ERROR_KIND, SOURCE_QUEUE]);

        let mut m = letter(0, 1000);
        assert!(fit(&mut m, 1000));
        assert!(m.attributes.is_empty());
        assert!(!fit(&mut letter(0, 1001), 1000), "a body alone too large");
    }

    proptest::proptest! {
        /// Whatever the attributes and the limit: a message that fits keeps its body and is within
        /// the limit; one that cannot fit is exactly one whose body alone is too large.
        #[test]
        fn fitting_never_touches_the_body(
            body_len in 0usize..3000,
            reason_len in 0usize..3000,
            own in proptest::collection::btree_map("[a-z]{1,12}", "[ -~]{1,200}", 0..4),
            max in 0usize..6000,
        ) {
            let mut m = letter(0, body_len);
            m.attributes.insert(ERROR_MESSAGE.into(), "r".repeat(reason_len.max(1)));
            m.attributes.extend(own);
            let body = m.body.clone();
            let fitted = fit(&mut m, max);
            proptest::prop_assert_eq!(&m.body, &body);
            proptest::prop_assert_eq!(fitted, body_len <= max);
            if fitted {
                proptest::prop_assert!(size(&m) <= max);
            }
        }
    }

    #[test]
    fn batches_hold_ten_entries_and_one_mebibyte() {
        let big = MESSAGE_SIZE_MAX - 2000;
        let mut letters = vec![letter(0, big), letter(1, 5000)];
        letters.extend((2..14).map(|i| letter(i, 10)));
        letters.push(letter(14, MESSAGE_SIZE_MAX + 1));
        let (batches, too_large) = pack(letters, MESSAGE_SIZE_MAX);
        let ids: Vec<Vec<&str>> = batches
            .iter()
            .map(|b| b.iter().map(|m| m.id.as_str()).collect())
            .collect();
        assert_eq!(ids[0], ["0"], "the big one alone");
        assert_eq!(ids[1].len(), 10);
        assert_eq!(ids[2], ["11", "12", "13"]);
        assert_eq!(too_large.len(), 1);
        for b in &batches {
            assert!(b.iter().map(size).sum::<usize>() <= MESSAGE_SIZE_MAX);
        }
    }
}
