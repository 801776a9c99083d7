"""The labelled corpus: radar's precision and recall on it, and that it regenerates byte for byte."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

from radar.scan.findings import FingerprintKey
from radar.scan.scanner import ScanOptions, scan_directory

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_precision_and_recall_on_the_corpus_are_at_least_0_95():
    truth = {(e["path"], e["line"]) for e in json.loads((CORPUS / "manifest.json").read_text())["secrets"]}
    findings = [f for f in scan_directory(CORPUS / "files", ScanOptions(), FingerprintKey(b"k")).findings if not f.ignored]
    hits = [f for f in findings if (f.path, f.line) in truth]
    precision = len(hits) / len(findings)
    recall = len({(f.path, f.line) for f in hits}) / len(truth)
    assert precision >= 0.95, f"precision {precision:.3f}"
    assert recall >= 0.95, f"recall {recall:.3f}"


def test_the_corpus_generator_is_deterministic(tmp_path):
    subprocess.run([sys.executable, str(CORPUS / "generate.py"), str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "manifest.json").read_bytes() == (CORPUS / "manifest.json").read_bytes()
    comparison = filecmp.dircmp(tmp_path / "files", CORPUS / "files")
    pending = [comparison]
    while pending:
        c = pending.pop()
        assert not (c.left_only or c.right_only or c.diff_files), (c.left_only, c.right_only, c.diff_files)
        pending.extend(c.subdirs.values())


RECORDED = Path(__file__).resolve().parent / "corpus_findings.json"


def corpus_findings() -> str:
    """The corpus scan's findings as JSON (fixed fingerprint key), as recorded in RECORDED."""
    findings = scan_directory(CORPUS / "files", ScanOptions(jobs=1), FingerprintKey(b"k")).findings
    return json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False) + "\n"


def test_the_corpus_findings_are_the_recorded_ones_byte_for_byte():
    # Changes meant to leave detection alone (speed, memory, hostile input) must leave every
    # finding as it was: rule, place, confidence, tags, name, fingerprint. A change that means to
    # alter findings records them again: `python tests/test_scan_corpus.py`, and the diff shows
    # what moved.
    assert corpus_findings() == RECORDED.read_text(), "corpus findings differ from tests/corpus_findings.json"


if __name__ == "__main__":
    RECORDED.write_text(corpus_findings())
