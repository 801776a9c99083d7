"""A bug in radar is one `radar: internal error:` line and exit status 70, never a traceback and
never exit 1 (which `radar scan` uses for "findings", so a CI job allowing it would pass with no
report), and a report that was being written leaves no temporary file behind.

The bug is injected: a real radar function is replaced by one that raises, in a child process
that runs radar's real `main()`.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from radar.files import write_file
from radar_cli import clean_env, python

# Stands for text from the user's input that an exception's message might quote.
QUOTED_INPUT = "quoted-input-7f3a9c"

_FAULTY_PLAN = f"""
import sys
import radar.plan.load

def load_report(path):
    raise ValueError("cannot parse {QUOTED_INPUT}")

radar.plan.load.load_report = load_report
from radar.cli import main
sys.exit(main(["plan", "findings.json"]))
"""


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(python(_FAULTY_PLAN), capture_output=True, env=env, timeout=60)


def _assert_not_quoted(output: bytes) -> None:
    if QUOTED_INPUT.encode() in output:
        pytest.fail("the exception's message (which may quote input) was printed")


def test_an_unexpected_exception_is_one_line_with_its_type_and_place_and_exit_70():
    result = _run(clean_env())
    assert result.returncode == 70
    assert result.stderr.startswith(b"radar: internal error: ValueError in radar/cli/plan.py:")
    assert b"(_run_plan); this is a bug in radar" in result.stderr and b"RADAR_DEBUG=1" in result.stderr
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr
    _assert_not_quoted(result.stdout + result.stderr)


def test_radar_debug_adds_the_traceback():
    result = _run(clean_env(RADAR_DEBUG="1"))
    assert result.returncode == 70
    assert result.stderr.startswith(b"radar: internal error: ValueError")
    assert b"Traceback (most recent call last)" in result.stderr and b"in load_report" in result.stderr


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_a_write_stopped_by_anything_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch, failure):
    target = tmp_path / "report.json"
    target.write_text("old report\n")

    def fsync(fd: int) -> None:
        raise failure("stopped")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(failure):
        write_file(target, "new report\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    assert target.read_text() == "old report\n"
