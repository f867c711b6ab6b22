//! The dashboard's terminal: ratatui on crossterm, behind a backend that writes nothing when
//! nothing changed.
//!
//! ratatui diffs each frame against the last and sends only changed cells, but every draw still
//! resets the colours and hides the cursor again: bytes for the terminal to parse every frame, even
//! an identical one. [`QuietBackend`] drops those: an unchanged frame writes zero bytes.

use std::io::{self, Stdout};

use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

/// The dashboard's terminal.
pub type DashboardTerminal = Terminal<QuietBackend<CrosstermBackend<Stdout>>>;

/// Raw mode, the alternate screen and a panic hook that restores the terminal (ratatui's
/// `try_init`), drawn through a [`QuietBackend`]. `ratatui::restore()` undoes it.
pub fn init() -> io::Result<DashboardTerminal> {
    // Its terminal has drawn nothing and hidden no cursor: dropping it writes nothing.
    drop(ratatui::try_init()?);
    Terminal::new(QuietBackend::new(CrosstermBackend::new(io::stdout())))
}

/// A backend that forwards only what changes the screen: no draw call for an empty diff, no
/// cursor hidden or shown twice, no move to where the cursor already is.
#[derive(Debug)]
pub struct QuietBackend<B> {
    inner: B,
    /// Whether the cursor is hidden, once known.
    cursor_hidden: Option<bool>,
    /// Where the cursor was last put, until a draw moves it.
    cursor_at: Option<Position>,
}

impl<B> QuietBackend<B> {
    pub fn new(inner: B) -> Self {
        QuietBackend {
            inner,
            cursor_hidden: None,
            cursor_at: None,
        }
    }

    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<B: Backend> Backend for QuietBackend<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        self.cursor_at = None;
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.cursor_at = None;
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        if self.cursor_hidden != Some(true) {
            self.inner.hide_cursor()?;
            self.cursor_hidden = Some(true);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        if self.cursor_hidden != Some(false) {
            self.inner.show_cursor()?;
            self.cursor_hidden = Some(false);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        let position = position.into();
        if self.cursor_at != Some(position) {
            self.inner.set_cursor_position(position)?;
            self.cursor_at = Some(position);
        }
        Ok(())
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.cursor_at = None;
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.cursor_at = None;
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use ratatui::layout::Rect;
    use ratatui::text::Line;
    use ratatui::widgets::Paragraph;

    use super::*;

    /// A terminal that counts the bytes written to it, always 40×4.
    #[derive(Clone, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl Write for Counting {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.fetch_add(buf.len(), Ordering::Relaxed);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn terminal(out: &Counting) -> Terminal<QuietBackend<CrosstermBackend<Counting>>> {
        let backend = QuietBackend::new(CrosstermBackend::new(out.clone()));
        let options = ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(Rect::new(0, 0, 40, 4)),
        };
        Terminal::with_options(backend, options).expect("terminal")
    }

    /// Draws `text` (and puts the cursor at its end when `cursor`); returns the bytes written.
    fn draw(
        term: &mut Terminal<QuietBackend<CrosstermBackend<Counting>>>,
        out: &Counting,
        text: &str,
        cursor: bool,
    ) -> usize {
        let before = out.0.load(Ordering::Relaxed);
        term.draw(|f| {
            f.render_widget(Paragraph::new(Line::from(text.to_string())), f.area());
            if cursor {
                f.set_cursor_position((text.len() as u16, 0));
            }
        })
        .expect("draw");
        out.0.load(Ordering::Relaxed) - before
    }

    #[test]
    fn an_unchanged_frame_writes_nothing() {
        let out = Counting::default();
        let mut term = terminal(&out);
        assert!(draw(&mut term, &out, "12:00:00 UTC", false) > 0);
        assert_eq!(draw(&mut term, &out, "12:00:00 UTC", false), 0);
        assert_eq!(draw(&mut term, &out, "12:00:00 UTC", false), 0);
        // A change writes again; then quiet again.
        assert!(draw(&mut term, &out, "12:00:01 UTC", false) > 0);
        assert_eq!(draw(&mut term, &out, "12:00:01 UTC", false), 0);
    }

    #[test]
    fn a_shown_cursor_is_placed_again_only_after_a_change() {
        let out = Counting::default();
        let mut term = terminal(&out);
        assert!(draw(&mut term, &out, "amount: 1", true) > 0);
        assert_eq!(draw(&mut term, &out, "amount: 1", true), 0);
        assert!(draw(&mut term, &out, "amount: 12", true) > 0);
        assert_eq!(draw(&mut term, &out, "amount: 12", true), 0);
        // Hiding it again is one write, then nothing.
        assert!(draw(&mut term, &out, "amount: 12", false) > 0);
        assert_eq!(draw(&mut term, &out, "amount: 12", false), 0);
    }
}
