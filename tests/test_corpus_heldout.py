"""The held-out corpus's own integrity: its manifest points at real lines, it regenerates byte for
byte, and every label is a type the generator documents. Radar's recall on it is measured by the
benchmark, never asserted here."""

from __future__ import annotations

import filecmp
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

HELDOUT = Path(__file__).resolve().parent.parent / "corpus" / "heldout"


def catalog():
    spec = importlib.util.spec_from_file_location("heldout_catalog", HELDOUT / "catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entries() -> list[dict]:
    return json.loads((HELDOUT / "manifest.json").read_text())["secrets"]


def test_every_entry_points_at_an_existing_file_and_line_that_is_not_blank():
    for e in entries():
        lines = (HELDOUT / "files" / e["path"]).read_text(encoding="utf-8").split("\n")
        assert 1 <= e["line"] <= len(lines), e
        assert lines[e["line"] - 1].strip(), e


def test_no_two_entries_share_a_line():
    places = [(e["path"], e["line"]) for e in entries()]
    assert len(places) == len(set(places))


def test_every_type_is_one_the_generator_documents_with_a_docs_link():
    c = catalog()
    documented = {kind: docs for kind, _name, docs, _template in c.TYPES + c.NAMED}
    assert len(documented) == len(c.TYPES) + len(c.NAMED), "a type name is used twice"
    assert all(docs.startswith("https://") for docs in documented.values())
    assert {e["type"] for e in entries()} <= set(documented)


def test_the_set_covers_every_documented_type_and_a_third_twice():
    c = catalog()
    counts: dict[str, int] = {}
    for e in entries():
        counts[e["type"]] = counts.get(e["type"], 0) + 1
    assert set(counts) == {row[0] for row in c.TYPES + c.NAMED}
    assert sum(1 for n in counts.values() if n >= 2) * 3 >= len(counts)


def test_a_type_seen_twice_is_seen_in_two_different_files():
    files: dict[str, set[str]] = {}
    for e in entries():
        files.setdefault(e["type"], set()).add(e["path"])
    counts: dict[str, int] = {}
    for e in entries():
        counts[e["type"]] = counts.get(e["type"], 0) + 1
    assert all(len(files[t]) == n for t, n in counts.items())


@pytest.mark.parametrize("notebook", sorted((HELDOUT / "files").rglob("*.ipynb")), ids=str)
def test_the_notebooks_are_valid_json(notebook):
    assert json.loads(notebook.read_text())["cells"]


def test_the_generator_is_deterministic(tmp_path):
    subprocess.run([sys.executable, str(HELDOUT / "generate.py"), str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "manifest.json").read_bytes() == (HELDOUT / "manifest.json").read_bytes()
    pending = [filecmp.dircmp(tmp_path / "files", HELDOUT / "files")]
    while pending:
        c = pending.pop()
        assert not (c.left_only or c.right_only or c.diff_files), (c.left_only, c.right_only, c.diff_files)
        pending.extend(c.subdirs.values())
