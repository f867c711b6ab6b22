//! Who may send vouchers: the IAM identities whose messages the consumer accepts.

use std::collections::BTreeSet;
use std::fmt;

/// Longest id accepted in `trusted_senders`.
const ID_MAX: usize = 128;

/// The trusted senders: IAM user ids (`AIDA…`), role ids (`AROA…`) or account ids, compared with
/// the `SenderId` SQS sets on every message. A role's messages say `ROLEID:session-name`; the caller
/// chooses the session name, so only the role id is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSenders(BTreeSet<String>);

/// Why a `trusted_senders` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trusted_senders: {0}")]
pub struct TrustedSendersError(String);

impl TrustedSenders {
    /// The rule for one id, in words.
    pub const RULE: &'static str = "an IAM user, role or account id: 1 to 128 capital letters and digits (AIDA…, AROA…), \
         without a session name";

    /// Checks a list: at least one id, each following [`TrustedSenders::RULE`].
    pub fn parse<S: AsRef<str>>(ids: &[S]) -> Result<Self, TrustedSendersError> {
        if ids.is_empty() {
            return Err(TrustedSendersError(
                "name at least one id (leave the key out to accept every sender)".into(),
            ));
        }
        let mut set = BTreeSet::new();
        for id in ids {
            let id = id.as_ref();
            let ok = (1..=ID_MAX).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !ok {
                return Err(TrustedSendersError(format!(
                    "{id:?} is not {}",
                    TrustedSenders::RULE
                )));
            }
            set.insert(id.to_string());
        }
        Ok(TrustedSenders(set))
    }

    /// Whether a message with this `SenderId` comes from a trusted sender (no `SenderId`: not).
    pub fn trusts(&self, sender_id: Option<&str>) -> bool {
        sender_id.is_some_and(|s| self.0.contains(principal(s)))
    }

    /// Why a message with this `SenderId` is refused, in words.
    pub fn refusal(sender_id: Option<&str>) -> String {
        match sender_id {
            Some(s) => format!(
                "sender {} is not in trusted_senders (a message's SenderId is set by SQS)",
                principal(s)
            ),
            None => {
                "the message carries no SenderId, and trusted_senders accepts only known senders"
                    .into()
            }
        }
    }
}

impl fmt::Display for TrustedSenders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.0.iter().map(String::as_str).collect();
        f.write_str(&ids.join(", "))
    }
}

/// The part of a `SenderId` that names the principal: the role id of `ROLEID:session`.
fn principal(sender_id: &str) -> &str {
    sender_id
        .split_once(':')
        .map_or(sender_id, |(id, _)| id)
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_role_id_is_trusted() {
        let t = TrustedSenders::parse(&["AROAINTAKE", "AIDAOPERATOR"]).expect("valid");
        assert!(t.trusts(Some("AROAINTAKE:any-session")));
        assert!(t.trusts(Some("AIDAOPERATOR")));
        assert!(
            !t.trusts(Some("AROAOTHER:AROAINTAKE")),
            "the session name is the caller's"
        );
        assert!(!t.trusts(Some("AIDAOPERATORX")));
        assert!(!t.trusts(None));
        assert!(TrustedSenders::refusal(Some("AROAX:s")).contains("AROAX is not"));
    }

    #[test]
    fn ids_are_checked() {
        assert!(TrustedSenders::parse::<&str>(&[]).is_err());
        for bad in ["", "aroa123", "AROA:session", "AROA X", &"A".repeat(129)] {
            let e = TrustedSenders::parse(&[bad]).expect_err(bad);
            assert!(e.to_string().starts_with("trusted_senders:"), "{e}");
        }
        assert!(TrustedSenders::parse(&["123456789012"]).is_ok());
    }
}
