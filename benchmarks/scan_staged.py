"""What a pre-commit hook costs: `radar scan --staged` on a typical commit, wall time including
start-up; and what honouring .gitignore saves on a tree with an ignored virtualenv.

Usage: .venv/bin/python benchmarks/scan_staged.py [--runs N] [--write]

1. Builds, offline, a repository shaped like psf/requests (a library of 20 modules of 600
   lines, 30 test modules, 40 documentation pages, 0.9 MB in 94 files; generated
   Python-like text with no credentials), commits it, then stages a typical commit: 5 files
   changed by a few lines each. Another working-tree edit is left unstaged.
2. Measures, interleaved over --runs rounds (median wall time of spawning the command to its exit):
   `python -c pass` (the interpreter alone), `git diff --cached --name-only` (one git process),
   `radar --version` (radar's start-up), `radar scan --staged` (the hook).
3. On the same repository plus an untracked, .gitignore'd `.venv/` of 6,000 files (10 MB), times
   `radar scan .` (walks as git sees it) against `radar scan . --no-gitignore` (walks everything,
   as radar did before it honoured .gitignore).
4. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

SECTION = "scan-staged"
RADAR = [sys.executable, "-m", "radar"]


def radar_command() -> list[str]:
    script = Path(sys.executable).with_name("radar")
    return [str(script)] if script.exists() else RADAR


def module_text(rng: random.Random, lines: int) -> str:
    words = ["session", "request", "response", "adapter", "headers", "cookies", "timeout", "proxies",
             "verify", "stream", "params", "data", "json", "auth", "url", "method", "hooks", "retries"]
    out = ['"""Generated module shaped like a small HTTP library."""', "", "import os", ""]
    while len(out) < lines:
        name = "_".join(rng.sample(words, 2))
        args = ", ".join(rng.sample(words, 3))
        out += [f"def {name}({args}):", f'    """Return the {rng.choice(words)} for {rng.choice(words)}."""',
                f"    if {rng.choice(words)} is None:", f"        {rng.choice(words)} = {{}}",
                f"    return {rng.choice(words)}.get({rng.choice(words)!r}, {rng.randint(0, 999)})", ""]
    return "\n".join(out) + "\n"


def git(root: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com")
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def build(root: Path) -> int:
    rng = random.Random(7)
    files = {f"src/requests/{n:02d}_module.py": 600 for n in range(20)}
    files.update({f"tests/test_{n:02d}.py": 400 for n in range(30)})
    files.update({f"docs/page_{n:02d}.rst": 150 for n in range(40)})
    files.update({"README.md": 120, "setup.py": 80, "pyproject.toml": 40, "HISTORY.md": 1500})
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    total = 0
    for name, lines in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(module_text(rng, lines))
        total += path.stat().st_size
    (root / ".gitignore").write_text(".venv/\n__pycache__/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    for name in sorted(files)[:5]:  # the commit: 5 files, a few lines each
        with open(root / name, "a") as f:
            f.write(module_text(rng, 12))
        git(root, "add", name)
    with open(root / "HISTORY.md", "a") as f:  # an unstaged edit
        f.write("unstaged\n")
    return total


def add_venv(root: Path) -> None:
    rng = random.Random(11)
    for n in range(6000):
        path = root / ".venv" / "lib" / f"pkg{n // 100:02d}" / f"mod{n % 100:02d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(module_text(rng, 60))


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + system, the command and the processes it waited for:
    git's): the CPU figure is what the command costs whatever else shares the cores."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure(commands: dict[str, list[str]], cwd: Path, env: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for name, command in commands.items():  # warm-up: page cache, bytecode
        timed(command, cwd, env)
    for round_ in range(runs):
        names = list(commands)
        names = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in names:
            times[name].append(timed(commands[name], cwd, env))
    return {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    env = dict(os.environ, RADAR_FINGERPRINT_KEY="bench-key")
    radar = radar_command()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "requests-like"
        size = build(root)
        staged = measure({
            "python -c pass": [sys.executable, "-c", "pass"],
            "git diff --cached --name-only": ["git", "diff", "--cached", "--name-only"],
            "radar --version": [*radar, "--version"],
            "radar scan --staged": [*radar, "scan", "--staged"],
        }, root, env, args.runs)
        add_venv(root)
        walks = measure({
            "radar scan . (honours .gitignore)": [*radar, "scan", "."],
            "radar scan . --no-gitignore": [*radar, "scan", ".", "--no-gitignore"],
        }, root, env, max(3, args.runs // 3))
    lines = [
        "## radar scan --staged: a pre-commit hook's cost (benchmarks/scan_staged.py)",
        "",
        f"`python benchmarks/scan_staged.py --runs {args.runs} --write`, {date.today().isoformat()}. A generated "
        f"repository shaped like psf/requests (94 files, {size / 1e6:.1f} MB committed), then a typical commit "
        "staged: 5 files changed by 12 lines each, plus an unstaged edit. Wall time from spawning the command "
        "to its exit, and CPU time (user + system, with the git processes it ran), medians of the rounds "
        "(interleaved, after one warm-up).",
        "",
        f"Machine: {results.machine()}; load average while measuring {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(start / end; above 2, other jobs shared the 2 cores).",
        "",
        "| Command | Median wall s | Median CPU s |",
        "|---|---:|---:|",
        *(f"| `{name}` | {wall:.3f} | {cpu:.3f} |" for name, (wall, cpu) in staged.items()),
        "",
        "The same repository with an untracked `.venv/` of 6,000 files (listed in .gitignore), "
        f"{max(3, args.runs // 3)} rounds:",
        "",
        "| Command | Median wall s | Median CPU s |",
        "|---|---:|---:|",
        *(f"| `{name}` | {wall:.3f} | {cpu:.3f} |" for name, (wall, cpu) in walks.items()),
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
