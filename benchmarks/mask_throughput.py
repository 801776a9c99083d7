"""How fast `radar mask` streams a realistic CI log, next to `cat` and to what users write today.

Usage: .venv/bin/python benchmarks/mask_throughput.py [--size-mb N] [--rounds N] [--baseline PATH]
       (or: make bench)

1. Builds, once, a realistic CI job log of --size-mb MB under benchmarks/work/ (git-ignored):
   pip and npm installs with URLs, compiler lines, pytest output with ANSI colours, `\\r` progress
   bars, and a few occurrences (raw and base64) of the benchmark's secrets.
2. Writes 1,000 random, realistic secret values (cloud keys, GitHub/Slack/Stripe-style tokens,
   hex keys, passwords, JWT-like strings) to one file each in a private temporary directory
   (mode 0700), removed at the end. They come from a fixed seed so the log matches them; they
   are never printed.
3. Runs, interleaved over --rounds rounds (the order rotates each round): `cat`; `radar mask`
   with 10, 100 and 1,000 secrets (`--secret-file` each, every form registered, as in use; run
   as the `radar` console script runs it),
   once with `--engine hyperscan` and once with `--engine ahocorasick`; and `sed -f script` with
   one `s/VALUE/[MASKED]/g` per secret. Every command reads the log from a stdin redirect and
   writes into a pipe drained by `cat > /dev/null`. A run still going after --budget-seconds
   is stopped and rated over the bytes it had read (sed with 1,000 secrets needs minutes).
   With --baseline PATH (a checkout of another radar version, e.g. `git worktree add
   /tmp/radar-main main`), that checkout's `radar mask` runs in the same rounds too, so a change
   is compared with what it changes under the same machine load.
4. Reports the median MB/s (MB = 10^6 bytes; start-up and pattern compilation included), the
   ratio to `cat`'s median, the rate after subtracting start-up (the same command on empty
   input), and the command's peak RSS (from /usr/bin/time). It prints a Markdown table and
   rewrites its section of benchmarks/RESULTS.md.
5. With --big-log-mb N, also streams one N MB file (the log above repeated) through `cat` and
   through `radar mask` with 1,000 secrets (--big-rounds times each, interleaved): MB/s and peak
   RSS, which must stay what it is on the small log (radar holds at most a read and a tail).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import signal
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
SECTION = "mask_throughput"
LOG_VERSION = 1
SECRET_COUNTS = (10, 100, 1000)
ENGINES = ("hyperscan", "ahocorasick")
PLANTED = 5  # secrets (the first ones, in every set) that occur in the log

# Quoted from the masking issue (same machine kind, raw form only): not measured here.
QUOTED = {"GitLab Runner masker": (306, 38, 4.7), "Buildkite agent replacer": (162, 70, 16)}
TARGETS = {10: 0.5, 100: 0.4, 1000: 0.25}  # fraction of cat's throughput
RSS_TARGET_MB = 200


# --- the secrets -----------------------------------------------------------------------------

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
PUNCT = "!@#$%^&*-_=+.:,?"


def make_secrets(count: int) -> list[bytes]:
    """`count` distinct realistic secret values from a fixed seed (the log plants the first few)."""
    rng = random.Random(20240611)
    pick = lambda alphabet, n: "".join(rng.choice(alphabet) for _ in range(n))  # noqa: E731
    kinds = [
        lambda: pick(B64, 40),  # cloud secret access key
        lambda: "ghp_" + pick(ALNUM, 36),
        lambda: "xoxb-" + pick(string.digits, 12) + "-" + pick(string.digits, 13) + "-" + pick(ALNUM, 24),
        lambda: "sk_test_" + pick(ALNUM, 24),
        lambda: pick("0123456789abcdef", rng.choice((32, 40, 64))),
        lambda: pick(ALNUM + PUNCT, rng.randint(12, 24)),  # a human-made password
        lambda: "eyJ" + pick(B64URL, 33) + "." + pick(B64URL, 60) + "." + pick(B64URL, 43),
        lambda: "-".join(pick("0123456789abcdef", n) for n in (8, 4, 4, 4, 12)),
    ]
    seen: dict[bytes, None] = {}
    while len(seen) < count:
        seen.setdefault(rng.choice(kinds)().encode(), None)
    return list(seen)


# --- the log ---------------------------------------------------------------------------------

PACKAGES = ["requests", "urllib3", "certifi", "numpy", "pandas", "pydantic", "fastapi", "uvicorn",
            "sqlalchemy", "alembic", "boto3", "botocore", "cryptography", "cffi", "pytest",
            "hypothesis", "black", "mypy", "typing-extensions", "charset-normalizer", "idna"]
NPM = ["react", "react-dom", "webpack", "babel-loader", "@babel/core", "typescript", "eslint",
       "lodash", "chalk", "commander", "jest", "ts-node", "@types/node", "vite", "rollup"]
MODULES = ["core", "io", "net", "codec", "crypto", "parser", "sched", "cache", "util", "alloc"]
GREEN, RED, YELLOW, BOLD, RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def _version(rng: random.Random) -> str:
    return f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"


def _pip(rng: random.Random) -> str:
    out = []
    for pkg in rng.sample(PACKAGES, rng.randint(3, 8)):
        ver, size = _version(rng), rng.randint(20, 9000)
        h = "".join(rng.choice("0123456789abcdef") for _ in range(60))
        out.append(f"Collecting {pkg}=={ver}\n  Downloading https://files.pythonhosted.org/"
                   f"packages/{h[:2]}/{h[2:4]}/{h[4:]}/{pkg.replace('-', '_')}-{ver}-py3-none-any.whl"
                   f" ({size} kB)\n")
        bar = []
        for step in range(0, 41, rng.choice((4, 5, 8))):
            bar.append(f"\r     {'━' * step}{' ' * (40 - step)} {size * step // 40}/{size} kB "
                       f"{rng.uniform(1, 90):.1f} MB/s eta 0:00:0{rng.randint(0, 9)}")
        out.append("".join(bar) + "\n")
    out.append(f"Installing collected packages: {', '.join(rng.sample(PACKAGES, 5))}\n")
    out.append(f"Successfully installed {' '.join(f'{p}-{_version(rng)}' for p in rng.sample(PACKAGES, 6))}\n")
    return "".join(out)


def _npm(rng: random.Random) -> str:
    out = []
    for pkg in rng.sample(NPM, rng.randint(4, 10)):
        ver = _version(rng)
        out.append(f"npm http fetch GET 200 https://registry.npmjs.org/{pkg}/-/"
                   f"{pkg.split('/')[-1]}-{ver}.tgz {rng.randint(8, 900)}ms (cache miss)\n")
    if rng.random() < 0.3:
        out.append(f"npm warn deprecated {rng.choice(NPM)}@{_version(rng)}: this version is no longer supported\n")
    out.append(f"\nadded {rng.randint(100, 2000)} packages, and audited {rng.randint(100, 2000)} "
               f"packages in {rng.randint(2, 90)}s\n\n{rng.randint(0, 300)} packages are looking for funding\n"
               "  run `npm fund` for details\n")
    return "".join(out)


def _compile(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(5, 30)):
        mod, f = rng.choice(MODULES), rng.choice(MODULES) + "_" + str(rng.randint(1, 99))
        out.append(f"gcc -pthread -Wall -Wextra -O2 -fPIC -DNDEBUG -I/usr/include/python3.11 "
                   f"-Isrc/include -c src/{mod}/{f}.c -o build/temp.linux-x86_64-cpython-311/src/{mod}/{f}.o\n")
        if rng.random() < 0.1:
            out.append(f"src/{mod}/{f}.c:{rng.randint(10, 2000)}:{rng.randint(1, 80)}: "
                       f"{BOLD}{YELLOW}warning:{RESET} unused variable 'tmp' [-Wunused-variable]\n")
    out.append(f"[{rng.randint(1, 100):3d}%] {GREEN}Linking C shared library libradar_{rng.choice(MODULES)}.so{RESET}\n")
    return "".join(out)


def _pytest(rng: random.Random) -> str:
    out = []
    total = rng.randint(20, 120)
    for i in range(total):
        mod, name = rng.choice(MODULES), rng.choice(["parses", "rejects", "streams", "merges", "rounds"])
        status = f"{GREEN}PASSED{RESET}" if rng.random() > 0.02 else f"{RED}FAILED{RESET}"
        out.append(f"tests/test_{mod}.py::test_{name}_{rng.choice(MODULES)}[case{rng.randint(0, 99)}] "
                   f"{status} {' ' * rng.randint(0, 8)}[{100 * (i + 1) // total:3d}%]\n")
    out.append(f"{GREEN}{'=' * 20} {total} passed, {rng.randint(0, 5)} skipped in "
               f"{rng.uniform(0.5, 90):.2f}s {'=' * 20}{RESET}\n")
    return "".join(out)


def _docker(rng: random.Random) -> str:
    layer = "".join(rng.choice("0123456789abcdef") for _ in range(12))
    total = rng.uniform(5, 300)
    bars = "".join(f"\r{layer}: Downloading [{'=' * n}>{' ' * (49 - n)}]  {total * n / 50:.1f}MB/{total:.1f}MB"
                   for n in range(0, 50, rng.choice((5, 7, 10))))
    return f"#{rng.randint(2, 20)} [{rng.randint(1, 9)}/9] RUN pip install --no-cache-dir -r requirements.txt\n" \
           f"{bars}\n{layer}: Pull complete\n"


def _leak(rng: random.Random, planted: list[bytes]) -> str:
    value = rng.choice(planted)
    basic = base64.b64encode(b"ci:" + value).decode()
    echoed = base64.b64encode(value + b"\n").decode()  # what `echo $S | base64` prints
    return rng.choice([
        f"export API_TOKEN={value.decode()}\n",
        f"DEBUG request headers: {{'Authorization': 'Bearer {value.decode()}'}}\n",
        f"DEBUG Authorization: Basic {basic}\n",
        f"{echoed}\n",
    ])


def build_log(size_mb: int, planted: list[bytes]) -> Path:
    """The cached log of `size_mb` MB, built on first use (fixed seed, so it is reproducible)."""
    path = WORK / f"ci-log-v{LOG_VERSION}-{size_mb}mb.log"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size_mb)
    makers = [_pip, _npm, _compile, _pytest, _pytest, _docker]
    target = size_mb * 10**6
    tmp = path.with_suffix(".tmp")
    written = 0
    with open(tmp, "wb") as f:
        while written < target:
            block = "".join(rng.choice(makers)(rng) for _ in range(200))
            block += "".join(_leak(rng, planted) for _ in range(rng.randint(0, 2)))
            data = block.encode()[: target - written]
            f.write(data)
            written += len(data)
    tmp.rename(path)
    return path


# --- running and measuring -------------------------------------------------------------------

# Peak RSS needs a small parent: Linux counts the parent's resident size, at fork, in the
# maximum of a child that then execs, so measuring straight from this (large) process would
# report our size. /usr/bin/time is small; a fresh Python is the fallback where it is missing.
TIME = shutil.which("time", path="/usr/bin")
MEASURE = ("import resource, subprocess, sys; status = subprocess.call(sys.argv[2:]); "
           "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
           "sys.exit(status)")


@dataclass
class Case:
    label: str
    secrets: int | None
    engine: str
    argv: list[str]
    cwd: Path | None = None  # where `python -m radar` runs: which checkout's radar it imports
    rates: list[float] = field(default_factory=list)  # MB/s of each round
    startups: list[float] = field(default_factory=list)  # seconds with empty input
    peak_kb: int = 0
    stopped: int = 0  # rounds cut short by the time budget


@dataclass
class Run:
    seconds: float
    bytes_read: int
    complete: bool


def run_once(case: Case, log: Path, budget: float) -> Run:
    """Run `case` with stdin from `log` and stdout into `cat > /dev/null`, for at most `budget` s.

    A run cut short is measured over the bytes the command had read: it shares our file
    description of the log, so its offset is the command's progress.
    """
    with tempfile.NamedTemporaryFile("r") as rss, open(log, "rb") as stdin, \
            open(os.devnull, "wb") as devnull:
        argv = ([TIME, "-f", "%M", "-o", rss.name, *case.argv] if TIME
                else [sys.executable, "-c", MEASURE, rss.name, *case.argv])
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, cwd=case.cwd)
        sink = subprocess.Popen(["cat"], stdin=proc.stdout, stdout=devnull)
        proc.stdout.close()
        # A blocking wait, and a timer for the budget: `proc.wait(timeout=...)` polls with sleeps
        # that double up to 50 ms, which rounded every run up to the next poll (a 21 ms `cat`
        # counted 64 ms; radar's runs moved in 50 ms steps).
        cut: list[int] = []

        def stop() -> None:
            if proc.poll() is None:
                cut.append(os.lseek(stdin.fileno(), 0, os.SEEK_CUR))
                _stop(proc)

        timer = threading.Timer(budget, stop)
        timer.start()
        proc.wait()
        timer.cancel()
        timer.join()
        complete = not cut
        if cut:
            bytes_read = cut[0]
        sink.wait()
        elapsed = time.perf_counter() - start
        err = proc.stderr.read()
        proc.stderr.close()
        if complete:
            bytes_read = log.stat().st_size
            if proc.returncode != 0:
                # radar's stderr never holds a value; sed's could quote its script: not shown.
                detail = err.decode(errors="replace").strip() if case.label.startswith("radar mask") else ""
                sys.exit(f"{case.label} ({case.secrets} secrets, {case.engine}) failed with "
                         f"status {proc.returncode}. {detail}")
        lines = rss.read().split()
        if lines and lines[-1].isdigit():
            case.peak_kb = max(case.peak_kb, int(lines[-1]))
    return Run(elapsed, bytes_read, complete)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the measured command, but not the /usr/bin/time around it (it still reports RSS)."""
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        children = []
    if TIME and children:
        for pid in children:
            os.kill(int(pid), signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait()


def startup_seconds(case: Case) -> float:
    """Wall time of `case` on empty input: start-up and pattern compilation."""
    start = time.perf_counter()
    subprocess.run(case.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True, cwd=case.cwd)
    return time.perf_counter() - start


def sed_script(secrets: list[bytes], path: Path) -> None:
    special = set(b"\\/.*[]^$")
    with open(path, "wb") as f:
        for value in secrets:
            escaped = b"".join(b"\\" + bytes([c]) if c in special else bytes([c]) for c in value)
            f.write(b"s/" + escaped + b"/[MASKED]/g\n")


def make_cases(secret_dir: Path, secrets: list[bytes], baseline: Path | None = None) -> list[Case]:
    files = []
    for i, value in enumerate(secrets):
        path = secret_dir / f"secret-{i:04d}"
        path.write_bytes(value)
        path.chmod(0o600)
        files.append(path)
    # What the `radar` console script runs (pip writes it so), not `python -m radar`, whose runpy
    # costs ~4 ms an installed radar does not pay; from the working directory's checkout first,
    # so that --baseline runs its own code.
    radar = [sys.executable, "-c", "import sys; from radar.cli import main; sys.exit(main())", "mask"]
    cases = [Case("cat", None, "", ["cat"])]
    for n in SECRET_COUNTS:
        sources = [arg for path in files[:n] for arg in ("--secret-file", str(path))]
        for engine in ENGINES:
            cases.append(Case("radar mask", n, engine, [*radar, "--engine", engine, *sources]))
            if baseline is not None:
                cases.append(Case(f"radar mask, baseline {commit_of(baseline)}", n, engine,
                                  [*radar, "--engine", engine, *sources], cwd=baseline))
        script = secret_dir / f"sed-{n}.sed"
        sed_script(secrets[:n], script)
        cases.append(Case("sed", n, "", ["sed", "-f", str(script)]))
    return cases


def repeated_log(log: Path, size_mb: int) -> Path:
    """`log` repeated to `size_mb` MB, in one file (built on first use; only copying)."""
    path = WORK / f"{log.stem}-repeated-{size_mb}mb.log"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    target, written = size_mb * 10**6, 0
    with open(tmp, "wb") as out:
        while written < target:
            with open(log, "rb") as f:
                while written < target and (chunk := f.read(min(1 << 24, target - written))):
                    out.write(chunk)
                    written += len(chunk)
    tmp.rename(path)
    return path


def big_log(cases: list[Case], log: Path, size_mb: int, rounds: int) -> str:
    """`cat` and `radar mask` with 1,000 secrets (hyperscan) over one file of `size_mb` MB."""
    big = repeated_log(log, size_mb)
    size = big.stat().st_size / 10**6
    radar = next(c for c in cases if c.label == "radar mask" and c.secrets == 1000 and c.engine == "hyperscan")
    chosen = [Case("cat", None, "", cases[0].argv), Case(radar.label, radar.secrets, radar.engine, radar.argv)]
    # One untimed read first: with one round, whichever command ran first paid for reading the
    # file from disk (a run where `cat` did gave it 325 MB/s against 880 from the page cache).
    with open(big, "rb") as f:
        while f.read(1 << 24):
            pass
    for r in range(rounds):
        for case in chosen:
            run = run_once(case, big, budget=3600)
            case.rates.append(run.bytes_read / 10**6 / run.seconds)
            print(f"{size:,.0f} MB log, round {r + 1}/{rounds}: {case.label} {case.rates[-1]:,.1f} MB/s", flush=True)
    cat, masked = (statistics.median(c.rates) for c in chosen)
    return (f"One {size:,.0f} MB file (the log above repeated), median of {rounds}: `cat` {cat:,.1f} MB/s; "
            f"`radar mask` with 1,000 secrets (hyperscan) {masked:,.1f} MB/s ({masked / cat:.2f}x cat), "
            f"peak RSS {chosen[1].peak_kb / 1024:.0f} MB (on the {log.stat().st_size / 10**6:,.0f} MB log: "
            f"{radar.peak_kb / 1024:.0f} MB).\n")


def commit_of(checkout: Path) -> str:
    found = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True)
    return found.stdout.strip() or checkout.name


def check_masking(log: Path, cases: list[Case], planted: list[bytes]) -> None:
    """Not timed: both engines give the same bytes, and no planted secret survives."""
    outputs = []
    for case in cases:
        if case.label == "radar mask" and case.secrets == SECRET_COUNTS[0]:
            with open(log, "rb") as stdin:
                out = subprocess.run(case.argv, stdin=stdin, capture_output=True, check=True).stdout
            if any(value in out for value in planted):
                sys.exit(f"radar mask ({case.engine}) left a planted secret in its output")
            outputs.append(out)
    if len(set(outputs)) != 1:
        sys.exit("radar mask gave different output with hyperscan and with ahocorasick")


# --- reporting -------------------------------------------------------------------------------

def table(cases: list[Case], rounds: int, size_mb: int) -> str:
    cat = statistics.median(cases[0].rates)
    rows = ["| command | secrets | engine | MB/s (median) | x cat | target | peak RSS (MB) | "
            "MB/s after start-up | start-up (s) | rounds |",
            "|---|---:|---|---:|---:|---|---:|---:|---:|---|"]
    for c in cases:
        rate, startup = statistics.median(c.rates), statistics.median(c.startups)
        ratio = rate / cat
        target = ""
        if c.label == "radar mask":
            goal = TARGETS[c.secrets]
            rss_ok = c.secrets != 1000 or c.peak_kb / 1024 < RSS_TARGET_MB
            met = ratio >= goal and rss_ok
            target = f">= {goal}x{' and < 200 MB' if c.secrets == 1000 else ''}: {'met' if met else 'NOT met'}"
        work = size_mb / rate - startup
        if c.stopped:
            steady = f"{rate:,.1f}"
        elif work < 0.1 * size_mb / rate:
            steady = "start-up dominates"
        else:
            steady = f"{size_mb / work:,.1f}"
        note = f"{len(c.rates)} of {rounds}"
        if c.stopped:
            note += f", {c.stopped} cut at the time budget (rate over the bytes read)"
        rows.append(f"| {c.label} | {c.secrets or ''} | {c.engine} | {rate:,.1f} | {ratio:.2f} | {target} | "
                    f"{c.peak_kb / 1024:.0f} | {steady} | {startup:.2f} | {note} |")
    for name, speeds in QUOTED.items():
        for n, mbps in zip(SECRET_COUNTS, speeds):
            rows.append(f"| *{name}: quoted from the issue, not measured here* | {n} | raw form only | "
                        f"*{mbps}* | | | | | | |")
    return "\n".join(rows)


BASELINE_NOTE = (" Rows marked *baseline* ran the radar of another checkout (--baseline) in the same "
                 "rounds, alternating with this one's, so both met the same machine load.")


def machine() -> str:
    try:
        import hyperscan
        hs = f"hyperscan {hyperscan.__version__}"
    except ImportError:
        hs = "hyperscan not installed"
    return results.machine(hs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=128, help="size of the log in MB (default 128)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every command (default 3)")
    parser.add_argument("--budget-seconds", type=float, default=30.0,
                        help="stop a run after this long and rate it over what it read (default 30)")
    parser.add_argument("--baseline", type=Path,
                        help="a checkout of another radar version whose radar mask runs in the same rounds")
    parser.add_argument("--big-log-mb", type=int, default=0,
                        help="also stream one file of this many MB through cat and radar mask (1,000 secrets)")
    parser.add_argument("--big-rounds", type=int, default=1, help="rounds over the big file (default 1)")
    args = parser.parse_args()

    secrets = make_secrets(max(SECRET_COUNTS))
    planted = secrets[:PLANTED]
    print(f"log: {args.size_mb} MB under {WORK.relative_to(HERE.parent)}/ (built on first use)", flush=True)
    log = build_log(args.size_mb, planted)
    size_mb = log.stat().st_size / 10**6
    for checkout in [HERE.parent] + ([args.baseline.resolve()] if args.baseline else []):
        results.compile_bytecode(checkout)
    secret_dir = Path(tempfile.mkdtemp(prefix="radar-bench-"))  # mode 0700
    try:
        cases = make_cases(secret_dir, secrets, args.baseline.resolve() if args.baseline else None)
        check_masking(log, cases, planted)
        run_once(cases[0], log, args.budget_seconds)  # warms the page cache; not counted
        for r in range(args.rounds):
            order = cases[r % len(cases):] + cases[: r % len(cases)]
            for case in order:
                run = run_once(case, log, args.budget_seconds)
                case.rates.append(run.bytes_read / 10**6 / run.seconds)
                case.stopped += not run.complete
                case.startups.append(startup_seconds(case))
                print(f"round {r + 1}/{args.rounds}: {case.label} {case.secrets or ''} {case.engine} "
                      f"{case.rates[-1]:,.1f} MB/s{'' if run.complete else ' (cut at the budget)'}",
                      flush=True)
        big = big_log(cases, log, args.big_log_mb, args.big_rounds) if args.big_log_mb else ""
    finally:
        shutil.rmtree(secret_dir)

    section = (
        f"## radar mask throughput\n\n"
        f"`make bench` (`benchmarks/mask_throughput.py --size-mb {args.size_mb} --rounds {args.rounds}"
        f"{' --baseline ' + str(args.baseline) if args.baseline else ''}"
        f"{f' --big-log-mb {args.big_log_mb} --big-rounds {args.big_rounds}' if args.big_log_mb else ''}`), "
        f"{time.strftime('%Y-%m-%d')}. Input: a {args.size_mb} MB CI log (pip/npm installs, compiler "
        f"lines, pytest output with ANSI colours, `\\r` progress bars, {PLANTED} secrets planted raw and "
        f"in base64), from a stdin redirect; output into a pipe drained by `cat > /dev/null`. "
        f"MB/s is 10^6 bytes per second of wall time, median over the rounds, start-up and pattern "
        f"compilation included; *MB/s after start-up* subtracts the median time of the same command "
        f"on empty input (*start-up*). Peak RSS: the command's maximum resident set size "
        f"({'/usr/bin/time' if TIME else 'getrusage of a small parent'}). radar registers every form of "
        f"every secret (raw, base64 in three alignments and two alphabets, percent-encodings, JSON, "
        f"hex); sed replaces the raw form only, one `s/VALUE/[MASKED]/g` per secret. Targets from the "
        f"issue are judged on the wall-time median."
        f"{BASELINE_NOTE if args.baseline else ''}\n\nMachine: {machine()}.\n\n"
        f"{table(cases, args.rounds, size_mb)}\n"
        f"{chr(10) + big if big else ''}"
    )
    results.write_section(SECTION, section)
    print()
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
