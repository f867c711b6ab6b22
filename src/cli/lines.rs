//! JSON Lines input read one bounded line at a time: a file of any size costs one line of memory,
//! a UTF-8 byte-order mark and Windows line ends are accepted, and an over-long or non-UTF-8 line is
//! reported by number instead of failing the whole input.

use std::io::BufRead;

/// Longest line accepted (a gift is a few hundred bytes).
pub const LINE_MAX_BYTES: usize = 64 * 1024;

/// One line of input, or why it cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Text(String),
    TooLong,
    NotUtf8,
}

/// Reads numbered, non-blank lines.
pub struct Lines<R> {
    reader: R,
    number: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Self {
        Lines {
            reader,
            number: 0,
            buf: Vec::new(),
        }
    }

    /// Reads one raw line into `buf` (without its newline); `Ok(false)` at the end. Bytes past
    /// `LINE_MAX_BYTES` are read and dropped, and the line is marked too long.
    fn read_raw(&mut self) -> std::io::Result<Option<bool>> {
        self.buf.clear();
        let mut too_long = false;
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok((!self.buf.is_empty() || too_long).then_some(too_long));
            }
            let (take, end) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            let room = LINE_MAX_BYTES.saturating_sub(self.buf.len());
            if take > room {
                too_long = true;
            }
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            self.reader.consume(take + usize::from(end));
            if end {
                return Ok(Some(too_long));
            }
        }
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = std::io::Result<(usize, Line)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let too_long = match self.read_raw() {
                Ok(Some(t)) => t,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            self.number += 1;
            if too_long {
                return Some(Ok((self.number, Line::TooLong)));
            }
            let mut bytes = self.buf.as_slice();
            if self.number == 1 {
                bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                return Some(Ok((self.number, Line::NotUtf8)));
            };
            let text = text.trim();
            if !text.is_empty() {
                return Some(Ok((self.number, Line::Text(text.to_string()))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Vec<(usize, Line)> {
        Lines::new(input).map(|r| r.expect("io")).collect()
    }

    #[test]
    fn bom_crlf_blank_and_last_line() {
        let got = read(b"\xef\xbb\xbf{\"a\":1}\r\n\r\n  \n{\"b\":2}");
        assert_eq!(
            got,
            vec![
                (1, Line::Text("{\"a\":1}".into())),
                (4, Line::Text("{\"b\":2}".into()))
            ]
        );
        assert!(read(b"").is_empty());
        assert!(
            read(b"\n\n\xef\xbb\xbf\n").len() == 1,
            "a BOM after line 1 is text"
        );
    }

    #[test]
    fn long_and_broken_lines_are_reported_and_skipped() {
        let mut input = vec![b'x'; LINE_MAX_BYTES + 10];
        input.extend_from_slice(b"\n\xff\xfe\nok\n");
        let got = read(&input);
        assert_eq!(
            got,
            vec![
                (1, Line::TooLong),
                (2, Line::NotUtf8),
                (3, Line::Text("ok".into()))
            ]
        );
        let exact = vec![b'y'; LINE_MAX_BYTES];
        assert_eq!(
            read(&exact),
            vec![(1, Line::Text("y".repeat(LINE_MAX_BYTES)))]
        );
    }
}
