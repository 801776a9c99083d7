"""What every benchmark script shares: where results go, and what machine produced them."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

# A child script's last line printing its peak RSS in KiB, from VmHWM: getrusage's ru_maxrss would
# count the parent's memory from before the exec.
PEAK = "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"


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
