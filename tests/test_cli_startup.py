"""What a radar command loads before its work: its own subcommand only, and for `radar mask`
(which starts in every CI job) not the modules it has no use for; help as wide as argparse makes it."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

import radar.cli
from radar_cli import clean_env

_LOADED = """
import sys
from radar.cli import main
status = main(sys.argv[1:])
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in {"radar", "shutil", "json"})))
"""


def _loaded(argv: list[str], stdin: bytes = b"") -> set[str]:
    result = subprocess.run([sys.executable, "-c", _LOADED, *argv], input=stdin, capture_output=True,
                            env=clean_env(), timeout=60)
    return set(result.stdout.decode().split())


def test_radar_mask_loads_no_other_subcommand_nor_shutil_or_json(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cr3t-value-for-the-test")
    secret.chmod(0o600)
    loaded = _loaded(["mask", "--secret-file", str(secret)], b"a line\n")
    assert "radar.cli.mask" in loaded and "radar.mask.stream" in loaded
    assert not loaded & {"shutil", "json", "radar.cli.scan", "radar.cli.vault", "radar.scan.engine"}


def test_radar_scan_loads_no_other_subcommand(tmp_path):
    (tmp_path / "app.py").write_text("x = 1\n")
    loaded = _loaded(["scan", str(tmp_path), "--format", "json", "--output", str(tmp_path / "r.json")])
    assert "radar.cli.scan" in loaded and "radar.scan.engine" in loaded
    assert not loaded & {"radar.cli.mask", "radar.cli.vault", "radar.cli.audit", "radar.cli.index", "radar.cli.completion"}


@pytest.mark.parametrize("columns", ["", "60", "100", "nope"])
@pytest.mark.parametrize("argv", [["--help"], ["scan", "--help"], ["mask", "--help"], ["secrets", "check", "--help"]])
def test_help_is_as_wide_as_argparse_makes_it(monkeypatch, capsys, argv, columns):
    monkeypatch.setenv("COLUMNS", columns)
    with pytest.raises(SystemExit):
        radar.cli.main(argv)
    ours = capsys.readouterr().out
    monkeypatch.setattr(radar.cli, "_help_formatter", argparse.HelpFormatter)
    with pytest.raises(SystemExit):
        radar.cli.main(argv)
    assert capsys.readouterr().out == ours
