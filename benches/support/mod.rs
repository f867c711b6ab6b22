//! What every benchmark prints and reads: the machine (cores, load average), this process's CPU
//! time, another process's CPU time and memory from `/proc`, and the figures table.
//!
//! Include it with `#[path = "support/mod.rs"] mod support;`.
#![allow(dead_code)]

use std::time::Duration;

/// Whether the benchmark runs in full (`cargo bench`) or as a quick check (`cargo test`).
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Logical cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The load average (1, 5 and 15 minutes) as `/proc/loadavg` has it.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// The first line every benchmark prints: what it measures, on how many cores, under what load.
pub fn print_machine(bench: &str) {
    println!(
        "== {bench} · {} cores · load average {} (1, 5, 15 min)",
        cores(),
        load()
    );
}

/// This process's CPU time so far (user + system, every thread).
pub fn process_cpu() -> Duration {
    cpu_time::ProcessTime::now().as_duration()
}

/// This process's CPU time and the wall time since it was started.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    cpu: Duration,
    wall: std::time::Instant,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch {
            cpu: process_cpu(),
            wall: std::time::Instant::now(),
        }
    }

    /// CPU time and wall time so far.
    pub fn read(&self) -> (Duration, Duration) {
        (process_cpu().saturating_sub(self.cpu), self.wall.elapsed())
    }
}

/// Kernel clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

/// User + system CPU time of process `pid` from `/proc/PID/stat` (10 ms resolution).
pub fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields after it start past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the name and the state.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(Duration::from_secs_f64(ticks / CLOCK_TICKS))
}

/// A line of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`…).
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// This process's resident memory now, in MiB.
pub fn resident_mib() -> f64 {
    status_kib(std::process::id(), "VmRSS").unwrap_or(0) as f64 / 1024.0
}

/// One row of the figures table: what, our figure, the reference's, their ratio and the target.
pub fn print_row(what: &str, ours: &str, reference: &str, ratio: Option<f64>, target: &str) {
    let ratio = ratio.map_or_else(|| "—".to_string(), |r| format!("{r:.2}"));
    println!("  {what:<44} {ours:>14}  {reference:>16}  {ratio:>6}  {target}");
}

/// The header of the figures table.
pub fn print_table_header() {
    println!(
        "  {:<44} {:>14}  {:>16}  {:>6}  target",
        "figure", "voucherdeck", "reference", "ratio"
    );
}

/// Gifts `gifts` in calls of `per_call` as an operator's bulk import (no limits), every one sent.
pub async fn gift_bulk(
    p: &voucherdeck_pipeline::Pipeline,
    gifts: &[voucherdeck_core::domain::GiftRequest],
    per_call: usize,
) {
    for chunk in gifts.chunks(per_call) {
        for r in p
            .gift_many(chunk, voucherdeck_pipeline::GiftOptions::bulk())
            .await
        {
            r.expect("gift");
        }
    }
}
