"""How long `radar mask --allow-add-mask` takes to register many values in-band.

Usage: .venv/bin/python benchmarks/mask_add_mask.py [--lines 400 2000 10000] [--engine auto]
                                                     [--baseline PATH] [--budget-seconds S]

1. For each count N, writes a job output of N `::add-mask::VALUE` lines, each followed by a line
   that prints VALUE (the worst case for batching: every registration must be in force for the
   very next line), into a private temporary directory (mode 0700, files 0600, removed at the
   end). Values are random (fixed seed) and never printed.
2. Runs `python -m radar mask --allow-add-mask` on it (stdin from the file, stdout read and
   checked here: no value may survive). With --baseline PATH (a checkout of another radar
   version, e.g. `git worktree add /tmp/radar-main main`), runs that checkout's radar too, in the
   same run, alternating, so both see the same machine load.
3. A run still going after --budget-seconds is stopped and reported with how many of its lines
   it had masked by then. Prints a Markdown table and rewrites its section of
   benchmarks/RESULTS.md (the baseline's rows included when given).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

HERE = Path(__file__).resolve().parent
SECTION = "mask_add_mask"


@dataclass
class Run:
    label: str
    lines: int
    seconds: float
    done: int  # value lines masked when the run ended (all of them unless cut)
    leaked: int  # values found in clear in the output
    complete: bool


def write_stream(directory: Path, count: int) -> tuple[Path, list[bytes]]:
    rng = random.Random(count)
    values = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(20)) for _ in range(count)]
    path = directory / f"add-mask-{count}.log"
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        for i, value in enumerate(values):
            f.write(b"::add-mask::" + value + b"\n" + f"step {i}: using ".encode() + value + b"\n")
    return path, values


def commit_of(checkout: Path) -> str:
    found = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True)
    return found.stdout.strip() or checkout.name


def run_once(label: str, checkout: Path, engine: str, stream: Path, values: list[bytes], budget: float) -> Run:
    """Mask `stream` with the radar in `checkout`; count the masked lines as they arrive."""
    argv = [sys.executable, "-m", "radar", "mask", "--allow-add-mask", "--engine", engine]
    with open(stream, "rb") as stdin:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=checkout, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = bytearray()
        reader = threading.Thread(target=lambda: out.extend(proc.stdout.read()))
        reader.start()
        try:
            proc.wait(timeout=budget)
            complete = True
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            complete = False
        reader.join()
        seconds = time.perf_counter() - start
    if complete and proc.returncode != 0:
        sys.exit(f"{label} failed with status {proc.returncode}")
    done = out.count(b"[MASKED]\n")
    leaked = sum(value in out for value in values)
    return Run(label, len(values), seconds, done, leaked, complete)


def table(runs: list[Run]) -> str:
    rows = ["| `::add-mask::` lines | radar | seconds | lines/s | values leaked |", "|---:|---|---:|---:|---:|"]
    for run in runs:
        rate = run.done / run.seconds if run.seconds else 0
        seconds = f"{run.seconds:,.1f}" if run.complete else f"> {run.seconds:,.0f} (stopped; {run.done:,} lines done)"
        rows.append(f"| {run.lines:,} | {run.label} | {seconds} | {rate:,.0f} | {run.leaked} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[400, 2000, 10000])
    parser.add_argument("--engine", default="auto", choices=["auto", "hyperscan", "ahocorasick"])
    parser.add_argument("--baseline", type=Path, help="a checkout of another radar version to compare with")
    parser.add_argument("--budget-seconds", type=float, default=600.0,
                        help="stop a run after this long and report how far it got (default 600)")
    args = parser.parse_args()

    checkouts = [(f"this checkout ({commit_of(HERE.parent)})", HERE.parent)]
    if args.baseline:
        checkouts.append((f"baseline ({commit_of(args.baseline)})", args.baseline.resolve()))
    for _, checkout in checkouts:
        results.compile_bytecode(checkout)
    # SIGTERM ends the run through the `finally` below, so the inputs holding values are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    directory = Path(tempfile.mkdtemp(prefix="radar-add-mask-"))  # mode 0700
    runs: list[Run] = []
    try:
        for count in args.lines:
            stream, values = write_stream(directory, count)
            for label, checkout in checkouts:
                run = run_once(label, checkout, args.engine, stream, values, args.budget_seconds)
                runs.append(run)
                print(f"{count} lines, {label}: {run.seconds:.1f} s{'' if run.complete else ' (stopped)'}", flush=True)
    finally:
        shutil.rmtree(directory)

    section = (
        "## radar mask --allow-add-mask: registering many values in-band\n\n"
        f"`benchmarks/mask_add_mask.py --lines {' '.join(map(str, args.lines))} --engine {args.engine}"
        f"{' --baseline ' + str(args.baseline) if args.baseline else ''}`, {time.strftime('%Y-%m-%d')}. "
        "Input: N `::add-mask::VALUE` lines (20-character random values), each followed by a line "
        "printing that value, from a file; every value must be masked from the next line on, so no "
        "two registrations can share a compile. Seconds of wall time, start-up included; runs "
        f"still going after {args.budget_seconds:.0f} s were stopped, and *lines done* counts the "
        "masked lines they had written (radar writes what a read releases once the whole read is "
        "handled: this input arrives in one 1 MiB read).\n\n"
        f"Machine: {results.machine()}.\n\n{table(runs)}\n"
    )
    results.write_section(SECTION, section)
    print()
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
