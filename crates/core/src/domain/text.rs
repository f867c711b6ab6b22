//! Untrusted text (message bodies, reasons, notes) made safe for a terminal, and the rule for text
//! a gift may carry.

use super::message_rules::is_sqs_text_char;

/// Replaces control characters (escape sequences included) with visible stand-ins; newlines and tabs
/// become spaces.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if is_forbidden(c) => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Whether `c` may not appear in stored text: every character SQS refuses in a message (so text
/// that passes validation is never refused by the queue: U+FFFE, U+FFFF and the C0 controls),
/// control characters (escape sequences, newlines) and the invisible bidirectional controls that
/// make text display in another order than it is stored (the "Trojan Source" characters). Emoji,
/// joiners and variation selectors are fine.
pub fn is_forbidden(c: char) -> bool {
    !is_sqs_text_char(c)
        || c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// The first forbidden character of `s` (see [`is_forbidden`]) and its position in characters.
pub fn first_forbidden(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| is_forbidden(*c))
}

/// Cuts `s` to at most `max` characters, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes() {
        assert_eq!(sanitize("a\u{1b}[2Jb\nc"), "a\u{fffd}[2Jb c");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn forbidden_characters() {
        assert_eq!(first_forbidden("thanks 🎉👩‍👩‍👧 ❤️"), None);
        assert_eq!(first_forbidden("a\u{202e}b"), Some((1, '\u{202e}')));
        assert_eq!(first_forbidden("ab\n"), Some((2, '\n')));
        assert_eq!(first_forbidden("\u{2067}x"), Some((0, '\u{2067}')));
        assert_eq!(first_forbidden("ok\u{fffe}"), Some((2, '\u{fffe}')));
        assert_eq!(first_forbidden("\u{ffff}"), Some((0, '\u{ffff}')));
    }

    /// No character SQS refuses passes the rule, over every character there is.
    #[test]
    fn refuses_everything_sqs_refuses() {
        let passed: Vec<u32> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|c| !is_sqs_text_char(*c) && !is_forbidden(*c))
            .map(u32::from)
            .collect();
        assert_eq!(passed, Vec::<u32>::new());
    }
}
