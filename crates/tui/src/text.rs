//! Small text helpers shared by the forms, the filter line and the messages: typing into a field,
//! plurals.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Longest text a field accepts (the domain's own limits are checked by validation).
const FIELD_MAX_CHARS: usize = 512;

/// Whether a key would be typed into a text field (so it is not looked up in the keymap).
pub fn is_text_key(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_) | KeyCode::Backspace)
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// Types a plain character or deletes one; returns whether the text changed.
pub fn edit_text(text: &mut String, key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            if text.chars().count() < FIELD_MAX_CHARS {
                text.push(c);
            }
            true
        }
        KeyCode::Backspace => text.pop().is_some(),
        _ => false,
    }
}

/// `"s"` unless there is exactly one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
