//! An operator's note on a destructive action (why a redrive, a delete, a purge, a resend): kept
//! in the action's audit entry, checked with the rule of a gift's note.

use std::fmt;

use super::gift::note_rule;

/// A checked operator's note: trimmed, not blank, at most
/// [`NOTE_MAX_CHARS`](super::gift::NOTE_MAX_CHARS) characters, no control, bidirectional-control
/// or non-characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorNote(String);

impl OperatorNote {
    /// Checks `raw`: `Ok(None)` when it is blank (no note), the rule it breaks otherwise.
    pub fn parse(raw: &str) -> Result<Option<OperatorNote>, String> {
        if let Some(rule) = note_rule(raw) {
            return Err(rule);
        }
        let trimmed = raw.trim();
        Ok((!trimmed.is_empty()).then(|| OperatorNote(trimmed.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperatorNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_trimmed_and_a_blank_one_is_none() {
        let n = OperatorNote::parse("  replayed after the fix 🎉 ").expect("fine");
        assert_eq!(
            n.as_ref().map(OperatorNote::as_str),
            Some("replayed after the fix 🎉")
        );
        assert_eq!(OperatorNote::parse("   ").expect("blank"), None);
    }

    #[test]
    fn a_note_follows_the_gift_note_rule() {
        let long = "é".repeat(281);
        let e = OperatorNote::parse(&long).expect_err("too long");
        assert!(e.contains("at most 280 characters (has 281)"), "{e}");
        assert!(OperatorNote::parse(&"é".repeat(280)).is_ok());
        let e = OperatorNote::parse("bad\u{1b}[31m").expect_err("escape");
        assert!(e.contains("U+001B at character 4"), "{e}");
        let e = OperatorNote::parse("a\u{202e}b").expect_err("bidi");
        assert!(e.contains("U+202E"), "{e}");
    }
}
