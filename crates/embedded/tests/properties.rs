//! Property tests: validation never panics and says why; amounts and messages round-trip; the
//! embedded engine conserves messages and never hands one message to two receivers at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use proptest::prelude::*;
use voucherdeck_core::domain::recipient::{RecipientError, eip55, parse_recipient};
use voucherdeck_core::domain::{
    Amount, Field, GiftRequest, Limits, Timestamp, Voucher, decode, encode, validate,
};
use voucherdeck_core::ports::{
    OutgoingMessage, Queue, QueueSpec, Receipt, ReceiveRequest, RequestCounter,
};
use voucherdeck_embedded::EmbeddedQueues;

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

proptest! {
    #[test]
    fn validation_never_panics_and_names_fields(
        recipient in ".{0,60}", amount in ".{0,12}", currency in proptest::option::of(".{0,5}"),
        sender in ".{0,20}", note in proptest::option::of(".{0,300}"),
    ) {
        let req = GiftRequest { recipient, amount, currency, sender, note, idempotency_key: None };
        if let Err(errs) = validate(&req, &Limits::default()) {
            prop_assert!(!errs.0.is_empty());
            for e in &errs.0 {
                prop_assert!(e.to_string().starts_with(e.field.name()));
                prop_assert!(!e.rule.is_empty());
            }
        }
    }

    #[test]
    fn amounts_round_trip(cents in 1u64..=100_000) {
        let a = Amount::from_cents(cents);
        prop_assert_eq!(a.to_string().parse::<Amount>(), Ok(a));
    }

    #[test]
    fn three_decimals_are_refused(int in 0u32..10_000, frac in 0u32..1000) {
        let s = format!("{int}.{frac:03}");
        prop_assert!(s.parse::<Amount>().is_err());
    }

    #[test]
    fn notes_with_control_characters_are_refused(before in "[a-z ]{0,20}", c in proptest::char::range('\0', '\u{1f}'), after in "[a-z ]{0,20}") {
        let req = GiftRequest {
            recipient: "ada@example.com".into(), amount: "1".into(), sender: "s".into(),
            note: Some(format!("{before}{c}{after}")), ..GiftRequest::default()
        };
        let errs = validate(&req, &Limits::default()).expect_err("control character");
        prop_assert!(errs.for_field(Field::Note).is_some());
    }

    #[test]
    fn wallets_lower_case_and_checksummed_pass(bytes in proptest::array::uniform20(any::<u8>())) {
        let hex = to_hex(&bytes);
        let lower = format!("0x{hex}");
        let checksummed = format!("0x{}", eip55(&hex));
        prop_assert!(parse_recipient(&lower).is_ok());
        prop_assert!(parse_recipient(&checksummed).is_ok());
    }

    #[test]
    fn a_flipped_case_breaks_the_checksum(bytes in proptest::array::uniform20(any::<u8>()), pick in any::<prop::sample::Index>()) {
        let hex = to_hex(&bytes);
        let good = eip55(&hex);
        let letters: Vec<usize> = good.char_indices().filter(|(_, c)| c.is_ascii_alphabetic()).map(|(i, _)| i).collect();
        prop_assume!(letters.len() >= 2);
        let i = letters[pick.index(letters.len())];
        let mut chars: Vec<char> = good.chars().collect();
        chars[i] = if chars[i].is_ascii_uppercase() { chars[i].to_ascii_lowercase() } else { chars[i].to_ascii_uppercase() };
        let bad: String = chars.into_iter().collect();
        let mixed = bad.chars().any(|c| c.is_ascii_lowercase()) && bad.chars().any(|c| c.is_ascii_uppercase());
        prop_assume!(mixed);
        let address = format!("0x{bad}");
        prop_assert_eq!(parse_recipient(&address), Err(RecipientError::Checksum));
    }

    #[test]
    fn valid_vouchers_survive_the_queue(i in 0u32..100_000, cents in 1u64..=100_000, note in proptest::option::of("[ -~]{0,280}")) {
        let req = GiftRequest {
            recipient: format!("user{i}@example.com"),
            amount: Amount::from_cents(cents).to_string(),
            sender: format!("s{i}"),
            note,
            ..GiftRequest::default()
        };
        let v = Voucher::new(validate(&req, &Limits::default()).expect("valid"), Timestamp::now());
        prop_assert_eq!(decode(&encode(&v), &Limits::default()), Ok(v));
    }

    /// Any body at all: decoding never panics, and whatever it accepts is stored in its validated
    /// form (decoding that again changes nothing).
    #[test]
    fn decoding_any_body_is_total_and_stable(body in body_strategy()) {
        if let Ok(v) = decode(&body, &Limits::default()) {
            prop_assert_eq!(decode(&encode(&v), &Limits::default()), Ok(v.clone()));
            prop_assert!(validate(&GiftRequest::from(&v.gift()), &Limits::default()).is_ok_and(|g| g == v.gift()));
        }
    }

    /// Validation is a fixed point: a validated gift validates to itself.
    #[test]
    fn validation_normalises_once(
        local in "[a-z0-9.]{1,10}", domain in "[A-Za-z]{1,8}", cents in 1u64..=100_000,
        currency in prop::sample::select(vec!["usd", "EUR", " gbp ", "Jpy"]),
        sender in "[ -~]{1,20}", note in proptest::option::of("[ -~🎉é]{0,40}"),
    ) {
        let req = GiftRequest {
            recipient: format!(" {local}@{domain}.com "),
            amount: Amount::from_cents(cents).to_string(),
            currency: Some(currency.to_string()),
            sender, note, idempotency_key: None,
        };
        if let Ok(g) = validate(&req, &Limits::default()) {
            prop_assert_eq!(validate(&GiftRequest::from(&g), &Limits::default()), Ok(g.clone()));
            prop_assert!(g.currency.chars().all(|c| c.is_ascii_uppercase()));
        }
    }
}

/// Message bodies: random text, random JSON, and real messages with one field replaced.
fn body_strategy() -> impl Strategy<Value = String> {
    let field = prop::sample::select(vec![
        "v",
        "voucher_id",
        "created_at",
        "recipient",
        "amount",
        "currency",
        "sender",
        "note",
        "extra",
    ]);
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        Just(serde_json::json!({"kind": "email", "address": "a@b.co"})),
        Just(serde_json::json!([1, 2])),
    ];
    let voucher = Voucher::new(
        validate(
            &GiftRequest {
                recipient: "ada@example.com".into(),
                amount: "5".into(),
                sender: "s".into(),
                ..GiftRequest::default()
            },
            &Limits::default(),
        )
        .expect("valid"),
        Timestamp(1_700_000_000_000),
    );
    let base: serde_json::Value = serde_json::from_str(&encode(&voucher)).expect("json");
    prop_oneof![
        ".{0,200}",
        "\\PC{0,200}",
        (field, value).prop_map(move |(f, v)| {
            let mut b = base.clone();
            b[f] = v;
            b.to_string()
        }),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Send(usize),
    Receive(usize),
    DeleteSome(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1usize..=10).prop_map(Op::Send),
        (1usize..=10).prop_map(Op::Receive),
        (0usize..10).prop_map(Op::DeleteSome)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the sequence of sends, receives and deletes: every message is either deleted or still
    /// counted, and no message is handed out again while a receiver holds it.
    #[test]
    fn embedded_queue_conserves_and_never_double_delivers(ops in proptest::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        rt.block_on(async {
            let q = EmbeddedQueues::new(RequestCounter::default());
            let spec = QueueSpec::new("p", Duration::from_mins(5));
            let (qr, _) = q.ensure(&spec).await.expect("ensure");
            let (mut sent, mut deleted) = (0u64, 0u64);
            let mut held: HashMap<String, String> = HashMap::new();
            let mut gone: HashSet<String> = HashSet::new();
            for o in ops {
                match o {
                    Op::Send(n) => {
                        let msgs: Vec<OutgoingMessage> = (0..n)
                            .map(|i| OutgoingMessage { id: i.to_string(), body: format!("m{sent}-{i}"), attributes: BTreeMap::new(), delay: None , group: None, dedup: None })
                            .collect();
                        sent += q.send_batch(&qr, &msgs).await.expect("send").succeeded.len() as u64;
                    }
                    Op::Receive(n) => {
                        let got = q.receive(&qr, ReceiveRequest::new(n, Duration::ZERO)).await.expect("receive");
                        for m in got {
                            assert!(!held.contains_key(&m.message_id), "delivered twice while held");
                            assert!(!gone.contains(&m.message_id), "delivered after delete");
                            held.insert(m.message_id, m.receipt);
                        }
                    }
                    Op::DeleteSome(k) => {
                        let victims: Vec<(String, String)> = held.iter().take(k.min(10)).map(|(a, b)| (a.clone(), b.clone())).collect();
                        if victims.is_empty() { continue; }
                        let receipts: Vec<Receipt> = victims.iter().enumerate().map(|(i, (_, r))| Receipt { id: i.to_string(), handle: r.clone() }).collect();
                        let out = q.delete_batch(&qr, &receipts).await.expect("delete");
                        assert_eq!(out.succeeded.len(), victims.len());
                        for (id, _) in victims {
                            held.remove(&id);
                            gone.insert(id);
                            deleted += 1;
                        }
                    }
                }
                let s = q.stats(&qr).await.expect("stats");
                assert_eq!(s.visible + s.in_flight + s.delayed, sent - deleted);
                assert_eq!(s.in_flight, held.len() as u64);
            }
        });
    }
}
