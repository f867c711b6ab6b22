//! The dashboard end to end on a real pseudo-terminal: the binary starts, draws, takes keys, follows
//! resizes (down to "too small" and back), quits, and leaves the terminal as it found it. The
//! screen is read through a VT100 parser, as a terminal would show it.

#[path = "support/pty.rs"]
mod pty;

use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn dashboard(home: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_voucherdeck"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("VOUCHERDECK_") {
            c.env_remove(k);
        }
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", home.join(".state"))
        .env("TERM", "xterm-256color")
        .current_dir(home)
        .args(["--embedded", "--no-demo"]);
    c
}

#[test]
fn the_dashboard_runs_on_a_real_terminal() {
    let home = tempfile::tempdir().expect("temp home");
    let mut term = pty::Terminal::spawn(dashboard(home.path()), 40, 130);
    assert!(term.is_cooked(), "a fresh terminal is in cooked mode");

    // Start and draw: header, live data, the footer's keys.
    term.wait_for(WAIT, "the dashboard", |s| {
        s.contains("voucherdeck") && s.contains("embedded") && s.contains("● live")
    });
    assert!(term.row(39).contains("quit"), "footer: {}", term.row(39));
    assert!(!term.is_cooked(), "the dashboard runs in raw mode");

    // Keys: help opens and closes; the DLQ browser peeks the (empty) DLQ and goes back.
    term.send(b"?");
    term.wait_for(WAIT, "the help", |s| s.contains("Log file"));
    term.send(b"\x1b");
    term.wait_for(WAIT, "the help closed", |s| !s.contains("Log file"));
    term.send(b"d");
    term.wait_for(WAIT, "the DLQ browser", |s| {
        s.contains("the DLQ is empty") || s.contains("peeked at")
    });
    term.send(b"\x1b");
    term.wait_for(WAIT, "the dashboard again", |s| {
        s.contains("Recent failures")
    });

    // Resize: the whole screen is drawn again at the new size, the footer on the new last row.
    term.resize(24, 80);
    term.wait_for(WAIT, "a redraw at 80x24", |_| term.row(23).contains("quit"));
    term.resize(10, 50);
    term.wait_for(WAIT, "the too-small notice", |s| {
        s.contains("terminal too small")
    });
    term.resize(40, 130);
    term.wait_for(WAIT, "the dashboard at full size", |s| {
        s.contains("Recent failures") && !s.contains("terminal too small")
    });

    // Quit: the process ends cleanly and the terminal is restored.
    term.send(b"q");
    let status = term.wait_exit(WAIT);
    assert!(status.success(), "{status}");
    assert!(term.is_cooked(), "raw mode was not turned off");
    let out = String::from_utf8_lossy(&term.output()).to_string();
    let left_alt = out.rfind("\x1b[?1049l").expect("left the alternate screen");
    let entered = out
        .rfind("\x1b[?1049h")
        .expect("entered the alternate screen");
    assert!(left_alt > entered, "the alternate screen was left last");
    assert!(
        out[left_alt..].contains("\x1b[?25h"),
        "the cursor is shown again"
    );
    assert!(
        out.contains("log written to"),
        "the log path is said on exit"
    );
    let log = std::fs::read_to_string(home.path().join(".state/voucherdeck/voucherdeck.log"))
        .expect("the log file");
    assert!(log.contains("dashboard starting"), "{log}");
    assert!(log.contains("dashboard stopped"), "{log}");
}
