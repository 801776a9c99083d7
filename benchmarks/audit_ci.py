"""What `radar audit ci` costs on a large legitimate configuration and on hostile ones.

Usage: .venv/bin/python benchmarks/audit_ci.py [--write] [--bound SECONDS]

Each case runs the real command line (`radar audit ci DIR --format json`) once: wall time from
spawning to exit, peak RSS of the radar process (`wait4`), exit status, and the number of findings
or the first words of the error line. Cases:

- 3,000 jobs that receive secrets, each extending a template, in 150 local includes;
- one job whose script is 100,000 lines, just under the 4 MB limit;
- one script line of 3 MB holding 750,000 pipes (the script reading is linear in a line's length);
- one script line of 2 MB: three option words of 700,000 letters (`set -xxx...1`, `curl -kkk...1 -LLL...1`);
- a configuration over 4 MB, nine levels of ten aliases, and 151 nested includes (all refused).

A run still going after --bound seconds (default 60) is killed and reported as such. With
--write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

SECTION = "audit-ci"
JOB = """\
job{i}:
  extends: .vault
  environment: production
  rules:
    - if: $CI_COMMIT_REF_PROTECTED == "true"
  secrets:
    DB_PASSWORD:
      vault: ci/app/production/db/password@secret
      file: false
      token: $VAULT_ID_TOKEN
  script:
    - echo "$DB_PASSWORD" | ./deploy --password-stdin
    - make deploy-{i}
"""
TEMPLATE = ".vault:\n  id_tokens:\n    VAULT_ID_TOKEN:\n      aud: https://vault.example.com\n"


def run(directory: Path, bound: float) -> tuple[str, float, float, str]:
    argv = [sys.executable, "-m", "radar", "audit", "ci", str(directory), "--format", "json"]
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "RADAR_FINGERPRINT_KEY": "benchmark"}
    done = results.bounded_run(argv, env=env, bound=bound)
    if done.status is None:
        return done.outcome(bound), done.wall, done.rss_mb, ""
    errors = [x.removeprefix("radar: error: ") for x in done.err.decode(errors="replace").splitlines()
              if x.startswith("radar: error:")]
    what = errors[0][:90] if errors else f"{len(json.loads(done.out)['findings'])} finding(s)"
    return done.outcome(bound), done.wall, done.rss_mb, what


def cases(root: Path) -> dict[str, Path]:
    made: dict[str, Path] = {}

    def case(name: str, files: dict[str, str]) -> None:
        directory = root / f"case{len(made)}"
        for path, text in files.items():
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / path).write_text(text)
        made[name] = directory

    includes = {f"ci/part{n}.yml": "".join(JOB.format(i=n * 20 + i) for i in range(20)) for n in range(150)}
    main = "include:\n" + "".join(f"  - local: ci/part{n}.yml\n" for n in range(150)) + TEMPLATE
    case("3,000 secret jobs in 150 local includes", {".gitlab-ci.yml": main, **includes})
    script = "".join(f"    - echo step {i} of a long script\n" for i in range(100_000))
    case("one job, a script of 100,000 lines (3.7 MB)", {".gitlab-ci.yml": TEMPLATE + JOB.format(i=0) + script})
    long_line = '    - "echo ' + "| x " * 750_000 + '$DB_PASSWORD"\n'
    case("one script line of 3 MB: 750,000 pipes", {".gitlab-ci.yml": TEMPLATE + JOB.format(i=0) + long_line})
    # Option words of 700,000 times the letter each reading looks for, ended by a digit (set -x,
    # curl -k, curl -L): an expression like -[A-Za-z]*x[A-Za-z]* backtracks over such a word
    # quadratically, trying every x as the one.
    n = 700_000
    words = (f"""    - "set -{'x' * n}1; curl -{'k' * n}1 -{'L' * n}1 -H 'JOB-TOKEN: $CI_JOB_TOKEN' """
             """$VAULT_ADDR/v1/x"\n""")
    case("one script line of 2 MB: three option words of 700,000 letters",
         {".gitlab-ci.yml": TEMPLATE + JOB.format(i=0) + words})
    case("a configuration of 5 MB", {".gitlab-ci.yml": "job:\n  script:\n" + "    - echo hello there\n" * 230_000})
    bomb = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    case("nine levels of ten aliases", {".gitlab-ci.yml": "\n".join(bomb) + "\njob:\n  script: *l8\n"})
    chain = {f"c{n}.yml": f"include: c{n + 1}.yml\n" for n in range(151)}
    case("151 nested includes", {".gitlab-ci.yml": "include: c0.yml\n", **chain, "c151.yml": "job:\n  script: x\n"})
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    parser.add_argument("--bound", type=float, default=60.0, help="kill a run still going after this many seconds")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, directory in cases(Path(scratch)).items():
            rows.append((name, *run(directory, args.bound)))
    lines = [
        "## radar audit ci: a large configuration and hostile ones (benchmarks/audit_ci.py)", "",
        f"`benchmarks/audit_ci.py --bound {args.bound:g}`: one run per case of `radar audit ci DIR --format json`, "
        f"wall time from spawning to exit, peak RSS of the radar process (wait4). {results.machine()}.", "",
        "| Case | outcome | wall s | peak RSS MB | findings, or the error (first words) |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    lines += [f"| {name} | {outcome} | {wall:.2f} | {rss:.0f} | {what} |" for name, outcome, wall, rss, what in rows]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
