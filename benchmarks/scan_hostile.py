"""radar scan on hostile input, this tree against an older one (main by default), side by side.

Run `python benchmarks/scan_hostile.py [--old REV] [--write]`.

The older code is checked out with `git worktree add --detach` into a temporary directory and
removed afterwards; both trees run with this Python and its packages, each through PYTHONPATH
(checked: `radar.__file__` must lie in the tree), from a working directory outside both.

Inputs, written to a temporary directory (mode 0700, removed afterwards):

1. One line of n `password=<16 random letters and digits>` assignments, separated by spaces, for
   n = 1,000, 4,000, 16,000, 64,000 and 100,000 (3.1 MB): the shape that made `radar scan`
   quadratic.
2. Other shapes, each one line: 10 MB of random letters and digits with no newline; 10 MB of
   `token ` (1.7 million keyword hits) and of `eyJ` (3.3 million); `ghp_` repeated (a provider
   prefix with no token); `-----BEGIN RSA PRIVATE KEY-----` repeated (a multi-line rule's
   keyword); `jdbc:a:` repeated, then a real JDBC URL on the next line; base64 runs that decode
   to assignments (`--decode-depth 3`); 2 MB of `"` after `password = `; a 12 KB run of broken
   percent escapes (`%zz`) beside a real one; a JWT whose claims nest 100,000 levels deep; a
   generic rule's name 250,000 times in one key after `ENV `, after `<` and before an operator
   (each name is a place where Hyperscan's start patterns report).

Each input is scanned with `radar scan FILE --format json --jobs 1`, old and new one after the
other, once (the old code's slow cases take minutes); a run over `--timeout` seconds is killed.
Measured: wall time, peak RSS of the process (sampled every 20 ms, as in scan_benchmark.py),
exit status, findings, and whether old and new report the same findings (byte-identical JSON
findings lists). `--write` puts the table into benchmarks/RESULTS.md (section scan-hostile).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import results
from scan_benchmark import measure

ROOT = Path(__file__).resolve().parent.parent
SECTION = "scan-hostile"
ASSIGNMENTS = (1_000, 4_000, 16_000, 64_000, 100_000)
MB = 1_000_000


def _random(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def assignments(n: int) -> str:
    rng = random.Random(n)
    return " ".join(f"password={_random(rng, 16)}" for _ in range(n)) + "\n"


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decoding(_: int) -> str:
    rng = random.Random(3)
    inner = " ".join(base64.b64encode(f"token={_random(rng, 12)}".encode()).decode() for _ in range(7000))
    blob = base64.b64encode(inner.encode()).decode()[:250_000]
    return " ".join([blob[: len(blob) // 4 * 4]] * 40) + "\n"


def _nested_jwt(_: int) -> str:
    header = _b64url('{"alg":"HS256"}')
    claims = _b64url('{"sub":' + "[" * 100_000 + "1" + "]" * 100_000 + "}")
    return f"id_token: {header}.{claims}.S1gnatureS1gnatureS1gnature\n"


# name: (what it is, text). Sizes are what the scan reads.
SHAPES: dict[str, tuple[str, Callable[[int], str]]] = {
    "no-newline": ("10 MB of random letters and digits, no newline", lambda _: _random(random.Random(1), 10 * MB)),
    "token-hits": ("10 MB of `token ` (1.7 million keyword hits)", lambda _: "token " * (10 * MB // 6)),
    "eyJ-hits": ("10 MB of `eyJ` (3.3 million keyword hits)", lambda _: "eyJ" * (10 * MB // 3)),
    "ghp-prefixes": ("10 MB of `ghp_`", lambda _: "ghp_" * (10 * MB // 4)),
    "key-headers": ("`-----BEGIN RSA PRIVATE KEY-----` x 300,000 on one line",
                    lambda _: "-----BEGIN RSA PRIVATE KEY-----" * 300_000),
    "jdbc-repeats": ("`jdbc:a:` x 200,000, then a JDBC URL with a password on the next line",
                     lambda _: "jdbc:a:" * 200_000 + "\njdbc:mysql://db/app;user=app;password=Zx9qL2mN8vR4tY7wKp\n"),
    "decoding": ("40 base64 blobs of 250 KB, each of 7,000 base64 runs (`--decode-depth 3`)", _decoding),
    "quotes": ("`password = ` and 2 MB of `\"`", lambda _: 'password = "' + '"' * (2 * MB) + "\n"),
    "percent": ("`redirect=%3d ` and 12 KB of `%zz`", lambda _: "redirect=%3d " + "%zz" * 4_000 + "\n"),
    "nested-jwt": ("a JWT whose claims nest 100,000 levels deep", _nested_jwt),
    "env-names": ("`ENV ` and `password` x 250,000 on one line", lambda _: "ENV " + "password" * 250_000 + "\n"),
    "tag-names": ("`<` and `password` x 250,000 on one line", lambda _: "<" + "password" * 250_000 + "\n"),
    "operator-names": ("`password` x 250,000, then `=` and a value", lambda _: "password" * 250_000 + "=Zx9qL2mN8vR4\n"),
}
OPTIONS = {"decoding": ["--decode-depth", "3"]}


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(into), rev],
                   check=True, capture_output=True)
    return into


def check_tree(tree: Path, env: dict[str, str], cwd: Path) -> str:
    """The commit `tree` is at, after checking that PYTHONPATH makes Python import radar from it."""
    found = subprocess.run([sys.executable, "-c", "import radar; print(radar.__file__)"], env=env, cwd=cwd,
                           capture_output=True, text=True, check=True).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"radar imports from {found}, not from {tree}")
    return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()


def run(tree: Path, target: Path, output: Path, options: list[str], timeout: float, work: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), RADAR_FINGERPRINT_KEY="benchmark")
    command = " ".join(f"'{part}'" for part in [sys.executable, "-m", "radar", "scan", str(target), "--format",
                                                 "json", "--jobs", "1", *options])
    elapsed, peak, status = measure(["sh", "-c", f"exec {command} > '{output}' 2>/dev/null"], env, timeout, work)
    findings = None
    if status in (0, 1, 2):
        try:
            findings = json.loads(output.read_text())["findings"]
        except (OSError, ValueError, KeyError):
            pass
    return {"seconds": elapsed, "rss_mb": peak / 1e6, "status": status, "findings": findings}


def _cell(result: dict, timeout: float) -> tuple[str, str, str]:
    if result["status"] == -9:
        return f"> {timeout:.0f} (killed)", "", "killed"
    status = str(result["status"]) if result["status"] >= 0 else f"signal {-result['status']}"
    if result["findings"] is None:
        status += " (crashed: no report)"
    return f"{result['seconds']:.2f}", f"{result['rss_mb']:.0f}", status


def render(rows: list[tuple[str, str, dict, dict]], old: str, new: str, timeout: float) -> str:
    lines = [
        "| Input | Size MB | Old s | New s | Old peak RSS MB | New peak RSS MB | Old exit | New exit | "
        "Findings old / new | Same findings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, size, old_result, new_result in rows:
        old_s, old_rss, old_status = _cell(old_result, timeout)
        new_s, new_rss, new_status = _cell(new_result, timeout)
        counts = " / ".join("-" if r["findings"] is None else str(len(r["findings"])) for r in (old_result, new_result))
        same = ("-" if old_result["findings"] is None or new_result["findings"] is None
                else "yes" if old_result["findings"] == new_result["findings"] else "no")
        lines.append(f"| {label} | {size} | {old_s} | {new_s} | {old_rss} | {new_rss} | {old_status} | {new_status} "
                     f"| {counts} | {same} |")
    notes = [f"- {label}: old found {_rules(old_result)}, new found {_rules(new_result)}."
             for label, _, old_result, new_result in rows
             if None not in (old_result["findings"], new_result["findings"])
             and old_result["findings"] != new_result["findings"]]
    return "\n".join(lines + (["", "Where the findings differ:", *notes] if notes else []))


def _rules(result: dict) -> str:
    counts: dict[str, int] = {}
    for finding in result["findings"]:
        counts[finding["rule_id"]] = counts.get(finding["rule_id"], 0) + 1
    return ", ".join(f"{n} {rule}" for rule, n in sorted(counts.items())) or "nothing"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default="main", help="the revision to compare with (default main)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run is killed (default 300)")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="radar-hostile-"))
    old_tree = work / "old"
    rows: list[tuple[str, str, dict, dict]] = []
    try:
        checkout(args.old, old_tree)
        trees = {"old": old_tree, "new": ROOT}
        for tree in trees.values():
            results.compile_bytecode(tree)
        commits = {name: check_tree(tree, dict(os.environ, PYTHONPATH=str(tree)), work) for name, tree in trees.items()}
        inputs = [(f"{n:,} assignments on one line", f"assign-{n}", lambda _, n=n: assignments(n)) for n in ASSIGNMENTS]
        inputs += [(label, name, make) for name, (label, make) in SHAPES.items()]
        for label, name, make in inputs:
            target = work / f"{name}.txt"
            target.write_text(make(0))
            size = f"{target.stat().st_size / MB:.2f}"
            measured = {}
            for which, tree in trees.items():
                measured[which] = run(tree, target, work / f"{name}-{which}.json", OPTIONS.get(name, []),
                                      args.timeout, work)
                r = measured[which]
                print(f"{label}: {which} {r['seconds']:.2f} s, {r['rss_mb']:.0f} MB, exit {r['status']}",
                      file=sys.stderr, flush=True)
            rows.append((label, size, measured["old"], measured["new"]))
            target.unlink()
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    table = render(rows, commits["old"], commits["new"], args.timeout)
    section = (
        "## radar scan on hostile input\n\n"
        f"`python benchmarks/scan_hostile.py --write`, {datetime.date.today().isoformat()}. Old = `{args.old}` at "
        f"{commits['old']}, new = this tree at {commits['new']}; each input scanned once by each with "
        "`radar scan FILE --format json --jobs 1` (one process), killed after "
        f"{args.timeout:.0f} s. Peak RSS sampled every 20 ms. Same findings: the two JSON findings lists are "
        "identical (same fingerprint key). The inputs are described in the script's docstring.\n\n"
        f"Machine: {results.machine()}\n\n{table}\n"
    )
    print(section)
    if args.write:
        results.write_section(SECTION, section.rstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
