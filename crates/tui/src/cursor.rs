//! Moving a cursor through a list with the moving keys: shared by every screen with rows.

use super::keymap::Action;

/// Moves `cursor` within a list of `len` rows for an up, down, top or bottom action; returns
/// whether it moved.
pub(super) fn move_cursor(cursor: &mut usize, len: usize, action: Action) -> bool {
    let last = len.saturating_sub(1);
    let next = match action {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (*cursor + 1).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return false,
    };
    let changed = next != *cursor;
    *cursor = next;
    changed
}
