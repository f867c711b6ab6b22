//! A real pseudo-terminal for end-to-end runs of the dashboard: spawn the binary on it, read what
//! it draws through a VT100 parser, type keys, resize, and check the terminal's modes afterwards.
//!
//! Include it with `#[path = "support/pty.rs"] mod pty;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A process on a pseudo-terminal, with the screen it drew.
pub struct Terminal {
    pty: Arc<pty_process::blocking::Pty>,
    pub child: Child,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Terminal {
    /// Spawns `command` on a new `rows`×`cols` pseudo-terminal.
    pub fn spawn(command: std::process::Command, rows: u16, cols: u16) -> Terminal {
        let (pty, pts) = pty_process::blocking::open().expect("open a pty");
        pty.resize(pty_process::Size::new(rows, cols))
            .expect("size the pty");
        let child = pty_process::blocking::Command::from(command)
            .spawn(pts)
            .expect("spawn on the pty");
        let pty = Arc::new(pty);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let (pty, parser, raw) = (pty.clone(), parser.clone(), raw.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                // EIO once the child's side is closed: the end of the output.
                while let Ok(n) = (&*pty).read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    lock(&parser).process(&buf[..n]);
                    lock(&raw).extend_from_slice(&buf[..n]);
                }
            })
        };
        Terminal {
            pty,
            child,
            parser,
            raw,
            reader: Some(reader),
        }
    }

    /// Types bytes (a key, or an escape sequence).
    pub fn send(&self, bytes: &[u8]) {
        (&*self.pty).write_all(bytes).expect("write to the pty");
    }

    /// Resizes the terminal (the child gets SIGWINCH) and the parser with it.
    pub fn resize(&self, rows: u16, cols: u16) {
        lock(&self.parser).set_size(nz(rows), nz(cols));
        self.pty
            .resize(pty_process::Size::new(rows, cols))
            .expect("resize the pty");
    }

    /// The screen's text, row by row.
    pub fn screen(&self) -> String {
        lock(&self.parser).screen().contents()
    }

    /// One row of the screen (0 is the top).
    pub fn row(&self, i: u16) -> String {
        let parser = lock(&self.parser);
        let cols = parser.screen().size().1.get();
        parser
            .screen()
            .rows(0, cols)
            .nth(usize::from(i))
            .unwrap_or_default()
    }

    /// The screen's size as the parser has it.
    pub fn size(&self) -> (u16, u16) {
        let (rows, cols) = lock(&self.parser).screen().size();
        (rows.get(), cols.get())
    }

    /// Everything the child wrote.
    pub fn output(&self) -> Vec<u8> {
        lock(&self.raw).clone()
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after `limit`.
    pub fn wait_for(&self, limit: Duration, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the child to exit (panics after `limit`, killing it), then for the output to end.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait for the child") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the process did not exit within {} s; the screen:\n{}",
                    limit.as_secs(),
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        status
    }

    /// Whether the terminal is in its usual cooked mode (line editing and echo on), as it is
    /// before a full-screen program starts and must be again after it ends.
    pub fn is_cooked(&self) -> bool {
        use rustix::termios::LocalModes;
        let t = rustix::termios::tcgetattr(&*self.pty).expect("read the terminal's modes");
        t.local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a terminal has at least one row and column")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
