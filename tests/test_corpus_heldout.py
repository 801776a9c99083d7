"""The held-out set's own integrity: it measures radar (benchmarks/scan_benchmark.py), so it must
be what its generator writes, and every label must point at a secret."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HELDOUT = Path(__file__).resolve().parent.parent / "corpus" / "heldout"


def _generator():
    spec = importlib.util.spec_from_file_location("heldout_generate", HELDOUT / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["heldout_generate"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_generator_writes_the_committed_files_byte_for_byte(tmp_path):
    assert _generator().main(["generate.py", str(tmp_path)]) == 0
    written = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(HELDOUT).as_posix(): p.read_bytes() for p in (HELDOUT / "files").rglob("*") if p.is_file()}
    committed["manifest.json"] = (HELDOUT / "manifest.json").read_bytes()
    assert sorted(written) == sorted(committed)
    assert [name for name in written if written[name] != committed[name]] == []


def test_every_label_points_at_a_line_holding_its_types_value_and_types_are_documented():
    generator = _generator()
    documented = {kind.type for kind in generator.KINDS}
    entries = json.loads((HELDOUT / "manifest.json").read_text())["secrets"]
    assert len(entries) >= 60 and len({e["type"] for e in entries}) == len(documented)
    assert len({(e["path"], e["line"]) for e in entries}) == len(entries)  # one secret per line
    for entry in entries:
        assert entry["type"] in documented
        lines = (HELDOUT / "files" / entry["path"]).read_text().splitlines()
        line = lines[entry["line"] - 1]
        kind = next(k for k in generator.KINDS if k.type == entry["type"])
        # The line names the variable the type is kept in (in one of the contexts' spellings).
        spellings = {kind.env, kind.env.lower(), generator._camel(kind.env), kind.env.lower().replace("_", "-"),
                     kind.env.lower().replace("_", ".")}
        assert any(s in line for s in spellings), entry


def test_each_type_has_a_decoy_in_the_same_file_kind_that_is_not_labelled():
    entries = json.loads((HELDOUT / "manifest.json").read_text())["secrets"]
    labelled = {e["path"] for e in entries}
    for path in labelled:
        directory, _, rest = path.partition("/")
        decoy = HELDOUT / "files" / directory / "defaults" / rest
        assert decoy.is_file(), path
        assert not any(e["path"] == f"{directory}/defaults/{rest}" for e in entries)
        # The decoy holds no value of the labelled file's shape: different text on the labelled line.
        assert decoy.read_text() != (HELDOUT / "files" / path).read_text()
