"""What finding rotation units costs the planner (`radar.plan.rotation.units`).

Usage: .venv/bin/python benchmarks/plan_rotation.py [--pairs N] [--runs N] [--write]

In-process, median of --runs rounds, on plan entries made here (no values, random fingerprints):

1. realistic: --pairs AWS key pairs (default 10,000), each an id and its secret key on adjacent
   lines of its own `.env` file, plus as many client id/secret pairs as CI/CD variables spread
   over 500 projects;
2. dense: one file holding --pairs AWS key ids and --pairs secret keys on alternating lines (a
   generated or hostile file; past MAX_BUCKET halves nothing in it is paired);
3. deep history: 200 pairs whose halves each have 1,000 places (one per commit).

Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random

import results  # benchmarks/results.py: the shared RESULTS.md writer
from results import median_seconds

from radar.plan.model import Entry, Place
from radar.plan.rotation import units

SECTION = "plan-rotation"


def entry(n: int, rng: random.Random, secret_type: str, field: str, places: tuple[Place, ...]) -> Entry:
    return Entry(fingerprint="%064x" % rng.getrandbits(256), secret_type=secret_type, severity="high",
                 mount="secret", path=f"ci/p/production/{n}", field=field, project=places[0].project,
                 environment="production", environment_inferred=False, file=False, places=places,
                 rotate_reasons=("validated",) if n % 2 else ())


def place(project: str, path: str, line: int, commit: str | None = None, key: str | None = None,
          scope: str | None = None) -> Place:
    return Place(path=path, line=line, project=project, environment="production", environment_source="path",
                 rule_id="r", commit=commit, variable_key=key, environment_scope=scope)


def realistic(pairs: int, rng: random.Random) -> list[Entry]:
    out = []
    for i in range(pairs):
        project = f"acme/p{i % 500}"
        out.append(entry(2 * i, rng, "AWS access key", "aws_access_key_id", (place(project, f"env/{i}.env", 1),)))
        out.append(entry(2 * i + 1, rng, "AWS secret key", "aws_secret_access_key",
                         (place(project, f"env/{i}.env", 2),)))
        key = f"APP{i}_CLIENT"
        out.append(entry(10**7 + 2 * i, rng, "Generic", f"app{i}_client_id",
                         (place(project, "variables", 1, key=f"{key}_ID", scope="production"),)))
        out.append(entry(10**7 + 2 * i + 1, rng, "Generic", f"app{i}_client_secret",
                         (place(project, "variables", 1, key=f"{key}_SECRET", scope="production"),)))
    return out


def dense(pairs: int, rng: random.Random) -> list[Entry]:
    return [entry(i, rng, "AWS access key" if i % 2 == 0 else "AWS secret key",
                  "aws_access_key_id" if i % 2 == 0 else "aws_secret_access_key",
                  (place("acme/app", "generated.env", i + 1),)) for i in range(2 * pairs)]


def deep(rng: random.Random) -> list[Entry]:
    out = []
    for i in range(200):
        commits = [f"{i:04d}{c:036x}" for c in range(1000)]
        out.append(entry(2 * i, rng, "AWS access key", "aws_access_key_id",
                         tuple(place("acme/app", f"env/{i}.env", 1, c) for c in commits)))
        out.append(entry(2 * i + 1, rng, "AWS secret key", "aws_secret_access_key",
                         tuple(place("acme/app", f"env/{i}.env", 2, c) for c in commits)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    cases = [(f"realistic: {args.pairs:,} AWS pairs in files + {args.pairs:,} client pairs in variables",
              realistic(args.pairs, rng)),
             (f"dense: one file of {2 * args.pairs:,} AWS halves", dense(args.pairs, rng)),
             ("deep history: 200 pairs, 1,000 places per half", deep(rng))]
    rows = ["| Case | Entries | Units found | Median |", "|---|---|---|---|"]
    for name, entries in cases:
        paired = sum(1 for e in units(entries) if e.rotate_with) // 2
        seconds = median_seconds(lambda: units(entries), args.runs)
        rows.append(f"| {name} | {len(entries):,} | {paired:,} | {seconds:.3f} s |")
    section = "\n".join([
        "## radar plan: rotation units (benchmarks/plan_rotation.py)", "",
        f"`.venv/bin/python benchmarks/plan_rotation.py --pairs {args.pairs} --runs {args.runs}`, "
        f"median of {args.runs} in-process runs of `radar.plan.rotation.units`. {results.machine()}", "",
        *rows])
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
