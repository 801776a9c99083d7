"""What every benchmark script shares: where results go, and what machine produced them."""

from __future__ import annotations

import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

# A child script's last line printing its peak RSS in KiB, from VmHWM: getrusage's ru_maxrss would
# count the parent's memory from before the exec.
PEAK = "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"


def compile_bytecode(checkout: Path) -> None:
    """Compile a checkout's radar to bytecode before timing it, as an installed radar has it: with
    PYTHONDONTWRITEBYTECODE set (CI images, this machine) a checkout without it compiles every
    module it imports on each run, 20-60 ms that the other side of a comparison would not pay."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "radar")], check=True)


def median_seconds(work: Callable[[], object], runs: int) -> float:
    """Median wall-clock seconds of `runs` calls of `work`, in this process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_section(name: str, section: str) -> None:
    """Replace this benchmark's marked section of RESULTS.md (or append it), leaving the others."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{begin}\n{section}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def publish(name: str, lines: list[str], write: bool) -> None:
    """Print a benchmark's section and, with `write` (its `--write`), put it into RESULTS.md."""
    section = "\n".join(lines)
    print(section)
    if write:
        write_section(name, section)


def machine(*extras: str) -> str:
    """CPU model, cores, OS and Python, then `extras` (tool versions)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [cpu, f"{os.cpu_count()} CPUs", f"{platform.system()} {platform.release()}",
             f"Python {platform.python_version()}", *extras]
    return ", ".join(parts)


@dataclass(frozen=True)
class Bounded:
    """A child run to its end or killed at the bound: its exit status (None when killed), wall
    time from spawning, its own peak RSS (wait4) and its output."""

    status: int | None
    wall: float
    rss_mb: float
    out: bytes
    err: bytes

    def outcome(self, bound: float) -> str:
        return f"still running after {bound:g} s, killed" if self.status is None else f"exit {self.status}"


def bounded_run(argv: list[str], *, env: dict[str, str], bound: float, cwd: Path | None = None) -> Bounded:
    """Run `argv`, killing it after `bound` seconds. The cases that use it print little, so the
    pipes are read once the child has gone."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            code: int | None = os.waitstatus_to_exitcode(status)
            break
        if time.perf_counter() - start > bound:
            proc.send_signal(signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            code = None
            break
        time.sleep(0.01)
    wall = time.perf_counter() - start
    return Bounded(code, wall, usage.ru_maxrss / 1024, proc.stdout.read(), proc.stderr.read())
