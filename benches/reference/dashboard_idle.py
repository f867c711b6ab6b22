"""Dashboard idle cost beside htop, measured the same way in the same run.

Starts, each in a pseudo-terminal of its own (160x48, TERM=xterm-256color):
  - the dashboard with no traffic and no worker  (voucherdeck --embedded --no-demo --no-worker)
  - the dashboard with the embedded worker idle   (voucherdeck --embedded --no-demo)
  - htop, the reference                           (htop, its defaults, an empty config)
lets them settle, then for the same window reads each one's CPU time (user + system, every
thread: /proc/PID/task/*/schedstat, or /proc/PID/stat if a thread came or went), the bytes it wrote to its terminal, how many of its seconds had
output, and its resident memory at the end. Prints one line each and the ratios to htop.

Usage: python3 dashboard_idle.py VOUCHERDECK_BINARY [--window 60] [--settle 10]
"""

import argparse
import fcntl
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time

COLS, ROWS = 160, 48
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Term:
    """A program in a pseudo-terminal, its output counted by the second."""

    def __init__(self, name, argv, env):
        self.name = name
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

        def controlling_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=controlling_terminal,
            close_fds=True,
        )
        os.close(slave)
        self.fd = master
        self.bytes = 0
        self.seconds_with_output = set()

    def read(self, now):
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return
        if data:
            self.bytes += len(data)
            self.seconds_with_output.add(int(now))

    def cpu(self):
        """(CPU seconds from /proc/PID/stat in clock ticks, {thread: CPU ns from its schedstat})."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        threads = {}
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/schedstat") as f:
                    threads[tid] = int(f.read().split()[0])
            except OSError:
                pass
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, threads

    def resident_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        try:
            os.write(self.fd, b"q")
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def cpu_between(before, after):
    """CPU seconds between two `Term.cpu()` readings: to the nanosecond from the threads' schedstat
    when no thread came or went meanwhile, else from the process's clock ticks."""
    (ticks0, threads0), (ticks1, threads1) = before, after
    if threads0.keys() == threads1.keys():
        return sum(threads1[t] - threads0[t] for t in threads0) / 1e9
    return ticks1 - ticks0


def pump(terms, until):
    """Reads every terminal's output until `until` (time.monotonic())."""
    fds = {t.fd: t for t in terms}
    while (left := until - time.monotonic()) > 0:
        ready, _, _ = select.select(list(fds), [], [], left)
        now = time.monotonic()
        for fd in ready:
            fds[fd].read(now)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("voucherdeck")
    p.add_argument("--window", type=float, default=60.0, help="measured seconds")
    p.add_argument("--settle", type=float, default=10.0, help="seconds before measuring")
    args = p.parse_args()
    htop = shutil.which("htop")
    if htop is None:
        sys.exit("htop is not installed (apt-get install htop)")

    state = tempfile.mkdtemp(prefix="voucherdeck-idle-")
    env = dict(os.environ, TERM="xterm-256color", HOME=state, XDG_STATE_HOME=state,
               XDG_CONFIG_HOME=state)
    for key in [k for k in env if k.startswith(("AWS_", "VOUCHERDECK_"))]:
        env.pop(key)
    terms = [
        Term("dashboard, no traffic, no worker", [args.voucherdeck, "--embedded", "--no-demo",
                                                  "--no-worker"], env),
        Term("dashboard, embedded worker idle", [args.voucherdeck, "--embedded", "--no-demo"], env),
        Term("htop (reference)", [htop], env),
    ]
    try:
        pump(terms, time.monotonic() + args.settle)
        start = {t.name: (t.cpu(), t.bytes, len(t.seconds_with_output)) for t in terms}
        t0 = time.monotonic()
        pump(terms, t0 + args.window)
        wall = time.monotonic() - t0
        rows = []
        for t in terms:
            cpu0, bytes0, secs0 = start[t.name]
            rows.append((
                t.name,
                cpu_between(cpu0, t.cpu()) / wall * 100,
                (t.bytes - bytes0) / wall,
                len(t.seconds_with_output) - secs0,
                t.resident_mib(),
            ))
    finally:
        for t in terms:
            t.stop()
        shutil.rmtree(state, ignore_errors=True)

    load = open("/proc/loadavg").read().split()[:3]
    print(f"== dashboard idle beside htop · {os.cpu_count()} cores · load average "
          f"{' '.join(load)} (1, 5, 15 min)")
    print(f"  {COLS}x{ROWS} pseudo-terminals, {args.settle:.0f} s to settle, {wall:.0f} s measured "
          f"(CPU: the threads' schedstat)")
    print(f"  {'program':<34} {'CPU % of a core':>16} {'bytes/s out':>12} "
          f"{'seconds with output':>20} {'resident MiB':>13}")
    for name, cpu, rate, secs, rss in rows:
        print(f"  {name:<34} {cpu:>16.3f} {rate:>12.1f} {secs:>20} {rss:>13.1f}")
    htop_cpu = rows[2][1]
    for name, cpu, *_ in rows[:2]:
        ratio = cpu / htop_cpu if htop_cpu > 0 else float("nan")
        print(f"  {name}: {ratio:.2f} of htop's CPU")


if __name__ == "__main__":
    main()
