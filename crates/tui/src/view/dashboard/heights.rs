//! How the dashboard's height is shared, by importance and by content: the depth chart first (it
//! keeps [`DEPTH_MIN`] rows while anything at all is drawn), then a failures table as tall as its
//! content needs at least (one line when there is no failure to list), then the row of DLQ, alarms
//! and worker; what is left makes the chart taller, and then goes to the failures, or, when
//! there are none, to the chart again.

/// The depth pane's least height: seven lines inside, the figures and a chart with its axes.
pub const DEPTH_MIN: u16 = 9;
/// The depth pane's height while failures are listed below it.
const DEPTH_MAX: u16 = 16;
/// The failures table with no row: its line ("no failures recorded") between its borders.
const FAILURES_EMPTY: u16 = 3;
/// The failures table with failures: its header and one row.
const FAILURES_MIN: u16 = 4;
/// The middle row with its title and one line; below that it gives way.
const MIDDLE_MIN: u16 = 3;

/// The heights of the top row (depth and age), the middle row and the failures, in `h` lines.
pub fn heights(h: u16, no_failures: bool) -> [u16; 3] {
    // Room for every alarm when the terminal is tall.
    let middle_want = if h >= 34 { 8 } else { 6 };
    let top_min = DEPTH_MIN.min(h);
    let mut left = h - top_min;
    let failures_min = if no_failures {
        FAILURES_EMPTY
    } else {
        FAILURES_MIN
    }
    .min(left);
    left -= failures_min;
    let middle = if left >= MIDDLE_MIN {
        middle_want.min(left)
    } else {
        0
    };
    left -= middle;
    let top_want = ((h.saturating_sub(middle_want) * 55) / 100).clamp(DEPTH_MIN, DEPTH_MAX);
    let grow = left.min(top_want.saturating_sub(top_min));
    let top = top_min + grow;
    left -= grow;
    if no_failures {
        [top + left, middle, failures_min]
    } else {
        [top, middle, failures_min + left]
    }
}

#[cfg(test)]
mod tests {
    use super::{DEPTH_MIN, heights};

    #[test]
    fn the_larger_layouts_are_shared_as_before() {
        // 120x36 and 160x48: the body is 32 and 44 lines.
        assert_eq!(heights(32, false), [14, 6, 12]);
        assert_eq!(heights(44, false), [16, 8, 20]);
    }

    #[test]
    fn at_80x24_the_chart_keeps_its_rows_and_each_pane_its_title() {
        assert_eq!(heights(20, false), [DEPTH_MIN, 6, 5]);
        assert_eq!(heights(20, true), [11, 6, 3]);
        // The redrive strip takes three more lines.
        assert_eq!(heights(17, false), [DEPTH_MIN, 4, 4]);
    }

    #[test]
    fn no_failures_gives_the_chart_the_room() {
        assert_eq!(heights(26, true), [17, 6, 3]);
        assert_eq!(heights(44, true), [33, 8, 3]);
    }

    #[test]
    fn every_line_is_given_and_the_chart_goes_last() {
        for h in 0..80 {
            for no_failures in [false, true] {
                let [top, middle, failures] = heights(h, no_failures);
                assert_eq!(top + middle + failures, h, "{h} lines");
                assert!(top >= DEPTH_MIN.min(h), "{h} lines: top {top}");
            }
        }
    }
}
