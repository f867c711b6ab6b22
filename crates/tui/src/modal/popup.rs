//! The read-only popups (help, a failure's detail): close them, scroll the ones that scroll.

use super::super::keymap::Action;
use super::outcome::Outcome;

/// One key in a popup; `scroll` is the popup's scroll offset when it scrolls.
pub fn popup_key(scroll: Option<&mut u16>, action: Option<Action>) -> Outcome {
    match (action, scroll) {
        (Some(Action::Close), _) => Outcome::Close,
        (Some(Action::Down), Some(s)) => {
            *s = s.saturating_add(1);
            Outcome::Stay
        }
        (Some(Action::Up), Some(s)) => {
            *s = s.saturating_sub(1);
            Outcome::Stay
        }
        _ => Outcome::Unused,
    }
}
