"""Masking set-up by number of secrets: building the SecretSet (every form, every database).

Usage: python benchmarks/mask_setup.py [--rounds N] [--baseline CHECKOUT] [--write]

Each count of the throughput benchmark's secrets (the same fixed-seed values) is set up in a
fresh child process of this checkout, and of --baseline's when given, alternating, so both meet
the same machine load; the child times `SecretSet(...)` alone (no interpreter start, no imports,
no reading of files: `mask_throughput.py` has the whole command). Medians of --rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import results
from mask_throughput import commit_of, machine, make_secrets

COUNTS = (10, 50, 100, 150, 200, 300, 500, 700, 1000)

# Run in the checkout under test: its own radar is the first on sys.path.
CHILD = """
import gc, json, sys, time
from pathlib import Path
from radar.mask.model import MaskOptions, Secret
from radar.mask.patterns import SecretSet
values = [p.read_bytes() for p in sorted(Path(sys.argv[1]).iterdir())]
gc.disable()  # as `radar mask` builds it
times = {}
for count in map(int, sys.argv[2:]):
    secrets = [Secret(v, f"file {i}") for i, v in enumerate(values[:count])]
    start = time.perf_counter()
    SecretSet(secrets, MaskOptions(engine="hyperscan"))
    times[count] = time.perf_counter() - start
print(json.dumps(times))
"""


def run_child(checkout: Path, secret_dir: Path, count: int) -> float:
    out = subprocess.run([sys.executable, "-c", CHILD, str(secret_dir), str(count)], cwd=checkout,
                         check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)[str(count)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of every count (default 7)")
    parser.add_argument("--baseline", type=Path, help="another checkout of radar, measured alongside")
    parser.add_argument("--write", action="store_true", help="write the table into RESULTS.md")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    checkouts = [("this checkout", here)]
    if args.baseline is not None:
        checkouts.append((f"baseline {commit_of(args.baseline.resolve())}", args.baseline.resolve()))
    times: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        secret_dir = Path(tmp)
        for i, value in enumerate(make_secrets(max(COUNTS))):
            path = secret_dir / f"secret-{i:04d}"
            path.write_bytes(value)
            path.chmod(0o600)
        for round_ in range(args.rounds):
            for count in COUNTS:
                for label, checkout in checkouts:
                    times.setdefault((label, count), []).append(run_child(checkout, secret_dir, count))
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    header = "| secrets | " + " | ".join(f"{label} (ms)" for label, _ in checkouts) + " |"
    lines = [
        "## radar mask: set-up by number of secrets",
        "",
        f"`benchmarks/mask_setup.py --rounds {args.rounds}"
        + (f" --baseline {args.baseline}`" if args.baseline else "`")
        + ": building the masking tables (every form of every secret, the Hyperscan databases) for the "
        "throughput benchmark's first N secrets, in a fresh process each time, median of the rounds; "
        "no interpreter start, imports or file reads (the throughput table has the whole command).",
        "",
        f"Machine: {machine()}.",
        "",
        header,
        "|---:|" + "---:|" * len(checkouts),
    ]
    for count in COUNTS:
        cells = [f"{statistics.median(times[(label, count)]) * 1000:.1f}" for label, _ in checkouts]
        lines.append(f"| {count:,} | " + " | ".join(cells) + " |")
    results.publish("mask-setup", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
