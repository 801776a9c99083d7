"""Radar's recall and precision on the held-out corpus (corpus/heldout), and the types it misses.

`python benchmarks/scan_heldout.py`: scans corpus/heldout/files in-process, as the corpus test does,
and prints recall (manifest lines with a finding), precision (findings on manifest lines) and,
per type, the planted secrets radar missed. Nothing of a value is printed: places and types only.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from radar.scan.findings import FingerprintKey
from radar.scan.scanner import ScanOptions, scan_directory

HELDOUT = Path(__file__).resolve().parent.parent / "corpus" / "heldout"


def main() -> None:
    truth = {(e["path"], e["line"]): e["type"] for e in json.loads((HELDOUT / "manifest.json").read_text())["secrets"]}
    findings = [f for f in scan_directory(HELDOUT / "files", ScanOptions(jobs=1), FingerprintKey(b"k")).findings if not f.ignored]
    found = {(f.path, f.line) for f in findings}
    hits = [f for f in findings if (f.path, f.line) in truth]
    false = [f for f in findings if (f.path, f.line) not in truth]
    missed = Counter(truth[p] for p in truth if p not in found)
    planted = Counter(truth.values())
    recall = len(found & truth.keys()) / len(truth)
    precision = len(hits) / len(findings) if findings else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"secrets {len(truth)}  findings {len(findings)}  recall {recall:.3f}  precision {precision:.3f}  F1 {f1:.3f}")
    print(f"types missed entirely: {sum(1 for t in planted if missed[t] == planted[t])} of {len(planted)}")
    for t in sorted(missed):
        print(f"  missed {missed[t]}/{planted[t]}  {t}")
    for f in sorted(false, key=lambda f: (f.path, f.line)):
        print(f"  false positive  {f.path}:{f.line}  {f.rule_id}")


if __name__ == "__main__":
    main()
