"""What hostile Vault servers and CI files cost `radar secrets check`: wall time and peak RSS.

Usage: .venv/bin/python benchmarks/vault_limits.py [--write] [--bound SECONDS]

Each case runs the real command line (`radar secrets check`, one secret) once, against a
scripted server on 127.0.0.1 from tests/vault_fakes.py or with a CI file made here:

- a login answer of 150 MB (no Content-Length, so radar has to read to find out);
- a server that accepts and never answers, and one that sends a byte every 0.5 s, both with
  `--vault-timeout 3`;
- a login answer nested 100,000 deep;
- CI files: nine levels of ten aliases ("billion laughs"), ten levels of ten `!reference`s, and
  variables that name each other ten times over seven levels.

Wall time is from spawning to exit; peak RSS is the child's own (`wait4`). A run still going
after --bound seconds (default 60) is killed and reported as such. The exit status and the
first words of the error line are shown (never a value: the cases hold none). Then the cost of
the bounds on a legitimate file: reading a 490 KB CI file of 3,000 jobs (median of 7), and the
share of it spent in the pass over the parser's events that counts what aliases expand to.
With --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import yaml  # noqa: E402

from radar.vault.ciyaml import _CILoader, _check_expansion, load_ci_file  # noqa: E402
from vault_fakes import ScriptedServer, answer, never_answer, response, stream, trickle  # noqa: E402

SECTION = "vault-limits"
SECRETS_FILE = "id_tokens: {T: {aud: a}}\nsecrets: {DB: {vault: production/db/password@ops}}\n"


def radar_check(ci: Path, env: dict[str, str], bound: float, *extra: str) -> tuple[str, float, float, str]:
    """(outcome, wall s, peak RSS MB, reason) of `radar secrets check --secrets-file ci`: the
    reason is the error line, or the FAILED secret's reason, with the file's directory left out."""
    argv = [sys.executable, "-m", "radar", "secrets", "check", "--secrets-file", str(ci), *extra]
    done = results.bounded_run(argv, env=env, bound=bound, cwd=ci.parent)
    if done.status is None:
        return done.outcome(bound), done.wall, done.rss_mb, ""
    out = done.out.decode(errors="replace").splitlines()
    err = done.err.decode(errors="replace").splitlines()
    reasons = [x.split("\t")[-1] for x in out if x.startswith("FAILED\t")]
    reasons += [x.removeprefix("radar: error: ") for x in err if x.startswith("radar: error:")]
    reason = (reasons[0] if reasons else "").replace(f"{ci.parent}/", "")
    return done.outcome(bound), done.wall, done.rss_mb, reason


def big_ci_file(path: Path, jobs: int = 3000) -> None:
    lines = ["variables:\n  GLOBAL: x\n",
             ".base: &base\n  image: alpine\n  before_script: [echo a, echo b]\n  variables: {A: '1', B: '2'}\n"]
    for i in range(jobs):
        lines.append(f"job{i}:\n  <<: *base\n  stage: test\n  script:\n    - echo {i}\n    - make test-{i}\n"
                     f"  variables:\n    X{i}: value-{i}\n  rules:\n    - if: '$CI_COMMIT_BRANCH == \"main\"'\n")
    path.write_text("".join(lines))


def hostile_files(directory: Path) -> dict[str, Path]:
    bomb = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    bomb += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, 9)]
    refs = [".l0: {v: [x, x, x, x, x, x, x, x, x, x]}"]
    refs += [f".l{i}: {{v: [{', '.join([f'!reference [.l{i - 1}, v]'] * 10)}]}}" for i in range(1, 10)]
    variables = ["variables:", "  V0: xxxxxxxxxx"]
    variables += [f"  V{i}: '{('$V' + str(i - 1)) * 10}'" for i in range(1, 8)]
    files = {
        "CI file: nine levels of ten aliases": "\n".join(bomb) + "\n" + SECRETS_FILE,
        "CI file: ten levels of ten !reference": "\n".join(refs) + "\nsecrets: {DB: !reference [.l9, v]}\n",
        "CI file: variables ten times over seven levels": "\n".join(variables) + "\n" + SECRETS_FILE.replace(
            "production/db", "$V7/db"),
    }
    paths = {}
    for i, (name, text) in enumerate(files.items()):
        paths[name] = directory / f"hostile-{i}.yml"
        paths[name].write_text(text)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    parser.add_argument("--bound", type=float, default=60.0, help="kill a run still going after this many seconds")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        ci = directory / "secrets.yml"
        ci.write_text(SECRETS_FILE)
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "T": "not-a-jwt", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        servers = {
            "login answer of 150 MB, no Content-Length": (
                stream(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n", 150 * 2**20), ()),
            "accepts, never answers; --vault-timeout 3": (never_answer, ("--vault-timeout", "3")),
            "a byte every 0.5 s; --vault-timeout 3": (
                trickle(response(200, b'{"auth": {"client_token": "' + b"t" * 1000 + b'"}}'), every=0.5),
                ("--vault-timeout", "3")),
            "login answer nested 100,000 deep": (answer(200, b"[" * 100_000 + b"]" * 100_000), ()),
        }
        for name, (behaviour, extra) in servers.items():
            server = ScriptedServer(behaviour)
            try:
                rows.append((name, *radar_check(ci, {**env, "VAULT_SERVER_URL": server.url}, args.bound, *extra)))
            finally:
                server.close()
        for name, path in hostile_files(directory).items():
            rows.append((name, *radar_check(path, {**env, "VAULT_SERVER_URL": "http://127.0.0.1:9"}, args.bound)))

        big = directory / "big.yml"
        big_ci_file(big)
        text = big.read_text()
        loads, passes = [], []
        for _ in range(7):
            start = time.perf_counter()
            load_ci_file(str(big))
            loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            _check_expansion(text)
            passes.append(time.perf_counter() - start)
        events = sum(1 for _ in yaml.parse(text, Loader=_CILoader))
        size_kb = big.stat().st_size / 1024

    table = ["| Case | outcome | wall s | peak RSS MB | reason (first words) |", "| --- | --- | ---: | ---: | --- |"]
    for name, outcome, wall, rss, reason in rows:
        words = " ".join(reason.split()[:14]).replace("|", "\\|")
        table.append(f"| {name} | {outcome} | {wall:.2f} | {rss:.0f} | {words} |")
    load_ms, pass_ms = statistics.median(loads) * 1000, statistics.median(passes) * 1000
    text = "\n".join([
        "## Vault and CI file limits: what hostile input costs `radar secrets check`",
        "",
        f"`benchmarks/vault_limits.py --bound {args.bound:g}`: one run per case of the real command line, "
        f"wall time from spawning to exit, peak RSS of the radar process (wait4). {results.machine()}.",
        "",
        *table,
        "",
        f"A legitimate {size_kb:.0f} KB CI file of 3,000 jobs ({events:,} parser events): read in "
        f"{load_ms:.0f} ms (median of 7), of which the pass that counts what aliases expand to "
        f"takes {pass_ms:.0f} ms.",
    ])
    print(text)
    if args.write:
        results.write_section(SECTION, text)


if __name__ == "__main__":
    main()
