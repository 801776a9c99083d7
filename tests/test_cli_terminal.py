"""`radar scan` at a terminal: the table at 80 columns, "No findings.", a progress display only for
scans that take a while, and `--quiet`, `-v`, `--no-color`. Terminals are real pseudo-terminals
(`pty`); the tree, the git history and the GitLab (a fake, tests/gitlab_fake.py) are real inputs."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path

import pytest
from rich.console import Console

from gitlab_fake import TOKEN, FakeGitLab, Project, gitlab_server, variable  # noqa: F401
from radar.cli.terminal import DelayedProgress
from radar.scan.examples import expand
from radar_cli import clean_env, radar, without_file_access_override
from test_scan_cli import _run_on_terminal

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key", TERM="xterm")
GITLAB = "glpat-" + expand("{b64url:20}", "terminal")
LONG_PATH = "services/payments/config/environments/production/application-secrets.env"
SGR = re.compile(rb"\x1b\[[0-9;]*m")
WAIT = 60  # a bound for waits that take milliseconds, not a measure of speed


def screen_lines(output: bytes) -> list[str]:
    return SGR.sub(b"", output).decode().replace("\r\n", "\n").split("\n")


def assert_never_shows(output: bytes, *values: str) -> None:
    for value in values:
        if value.encode() in output:
            pytest.fail("a secret value reached the output")


def tree(root: Path) -> Path:
    (root / Path(LONG_PATH).parent).mkdir(parents=True)
    (root / LONG_PATH).write_text(f"GITLAB_TOKEN={GITLAB}\n")
    return root


# --- the table -----------------------------------------------------------------------------------

def test_at_80_columns_the_location_and_rule_are_whole(tmp_path):
    output = _run_on_terminal(["scan", str(tree(tmp_path))], dict(ENV, COLUMNS="80", NO_COLOR="1"))
    lines = screen_lines(output)
    assert LONG_PATH in lines
    assert any(re.match(r"  1:14 +gitlab-personal-access-token +\S", line) for line in lines), lines
    assert f"1 finding(s) in 1 file(s), {len(f'GITLAB_TOKEN={GITLAB}') + 1} B scanned" in lines
    assert_never_shows(output, GITLAB)


def test_a_clean_tree_on_a_terminal_says_no_findings(tmp_path):
    (tmp_path / "README.md").write_text("nothing to see\n")
    lines = screen_lines(_run_on_terminal(["scan", str(tmp_path)], dict(ENV, COLUMNS="80")))
    assert [line for line in lines if line] == ["No findings.", "0 finding(s) in 1 file(s), 15 B scanned"]


# --- progress ------------------------------------------------------------------------------------

def test_a_small_scan_draws_no_progress(tmp_path):
    output = _run_on_terminal(["scan", str(tree(tmp_path))], dict(ENV, COLUMNS="80"))
    assert b"scanning" not in output and b"\x1b[?25l" not in output  # rich hides the cursor for a live display


def test_a_progress_display_appears_after_its_delay_and_is_erased():
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True)
    with DelayedProgress(console, (), "scanning things", delay=0) as bar:
        assert bar.shown.wait(WAIT)
        bar.update(completed=3, total=10)
    assert "scanning things" in out.getvalue()


def test_a_progress_display_never_appears_for_work_done_before_its_delay():
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True)
    with DelayedProgress(console, (), "scanning things", delay=3600) as bar:
        bar.update(completed=3, total=10)
    assert out.getvalue() == "" and not bar.shown.is_set()
    assert not any(isinstance(t, threading.Timer) and t.is_alive() for t in threading.enumerate())


@pytest.fixture
def slow_gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    """Two projects whose variables answer 429 (Retry-After: 1) once each: a scan of a few seconds."""
    gitlab_server.projects = [Project(10, "acme/api", variables=[variable("DEPLOY_TOKEN", GITLAB)]),
                              Project(11, "acme/web", variables=[variable("LOG_LEVEL", "debug")])]
    gitlab_server.rate_limited_once.update({"/api/v4/projects/10/variables", "/api/v4/projects/11/variables"})
    return gitlab_server


def test_a_gitlab_scan_that_takes_seconds_shows_its_progress(slow_gitlab):
    env = dict(ENV, GITLAB_TOKEN=TOKEN, COLUMNS="120")
    output = _run_on_terminal(["scan", "gitlab", "--url", slow_gitlab.url, "--project", "acme/api", "acme/web",
                               "--jobs", "1"], env)
    assert b" project(s)" in output  # the display's count column: drawn only while it shows
    assert_never_shows(output, GITLAB)


# --- --quiet, -v, --no-color ---------------------------------------------------------------------

def unreadable_tree(root: Path) -> Path:
    (root / "latin.txt").write_bytes("café\n".encode("latin-1"))
    (root / "locked.env").write_text(f"T={GITLAB}\n")
    (root / "locked.env").chmod(0)
    return root


def test_quiet_prints_only_the_error_line_of_an_incomplete_scan(tmp_path):
    root = unreadable_tree(tmp_path)
    loud = radar("scan", root, env=ENV, prefix=without_file_access_override())
    quiet = radar("scan", root, "--quiet", env=ENV, prefix=without_file_access_override())
    assert loud.returncode == quiet.returncode == 2
    assert b"radar: warning: latin.txt: not valid UTF-8" in loud.stderr
    assert quiet.stderr.decode().splitlines() == [
        "radar: error: scan incomplete: 1 file could not be read (run without --quiet to see each)"]


def test_quiet_draws_no_progress_and_says_no_summary_on_a_terminal(tmp_path):
    (tmp_path / "latin.txt").write_bytes("café\n".encode("latin-1"))
    output = _run_on_terminal(["scan", str(tmp_path), "-q", "--format", "json", "--output", str(tmp_path / "r.json")],
                              dict(ENV, COLUMNS="80"))
    assert output == b""


def test_verbose_says_what_was_scanned_and_skipped_never_a_value(tmp_path):
    root = tree(tmp_path)
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0" + GITLAB.encode())
    (root / "link.env").symlink_to(root / LONG_PATH)
    (root / "vendor").mkdir()
    (root / "vendor" / "lib.env").write_text(f"T={GITLAB}\n")
    result = radar("scan", root, "-v", "--exclude", "vendor", env=ENV)
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 1
    assert "radar: link.env: skipped, a symbolic link (--follow-symlinks follows links)" in lines
    assert "radar: image.png: skipped, binary" in lines
    assert "radar: vendor/: skipped, excluded (--exclude, .radarignore or .gitignore)" in lines
    assert any(re.fullmatch(r"radar: scanned 1 file\(s\), 40 B, in \d+\.\d s; skipped 1 binary and 1 other "
                            r"file\(s\), each named above", line) for line in lines), lines
    assert "radar: 1 finding(s) reported, 0 ignored shown, 0 hidden (ignored, or below --min-confidence)" in lines
    assert_never_shows(result.stdout + result.stderr, GITLAB, GITLAB[6:])


def test_verbose_on_a_history_scan_says_what_history_held(tmp_path):
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=Dev", "-c", "user.email=dev@example.com",
                        *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    for n in range(3):
        (tmp_path / "a.txt").write_text(f"version {n}\n")
        git("add", "-A")
        git("commit", "-qm", f"v{n}")
    result = radar("scan", tmp_path, "--history", "-v", env=ENV)
    assert result.returncode == 0, result.stderr
    assert re.search(rb"radar: read history in \d+\.\d s: 2 ref\(s\), 3 commit\(s\), 3 unique blob\(s\) to scan\n",
                     result.stderr), result.stderr


def test_quiet_and_verbose_do_not_go_together(tmp_path):
    result = radar("scan", tmp_path, "-q", "-v", env=ENV)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        "radar scan: error: argument -v/--verbose: not allowed with argument -q/--quiet")


@pytest.mark.parametrize("options, coloured", [([], True), (["--no-color"], False)])
def test_no_color_turns_the_table_colours_off(tmp_path, options, coloured):
    output = _run_on_terminal(["scan", str(tree(tmp_path)), *options], dict(ENV, COLUMNS="100"))
    assert b"gitlab-personal-access-token" in output
    assert (re.search(rb"\x1b\[[0-9;]*3[1-6]m", output) is not None) is coloured


def test_scan_gitlab_takes_quiet_too(gitlab_server):
    gitlab_server.projects = [Project(10, "acme/api", variables=[variable("DEPLOY_TOKEN", GITLAB)]),
                              Project(14, "acme/locked", error=403)]
    env = dict(ENV, GITLAB_TOKEN=TOKEN)
    args = ("scan", "gitlab", "--url", gitlab_server.url, "--project", "acme/api", "acme/locked", "--format", "json")
    loud, quiet = radar(*args, env=env), radar(*args, "-q", env=env)
    assert loud.returncode == quiet.returncode == 2
    assert b"radar: warning: project acme/locked" in loud.stderr
    assert quiet.stderr.decode().splitlines() == [
        "radar: error: scan incomplete: 1 project could not be read (run without --quiet to see each)"]
    assert json.loads(quiet.stdout)["findings"] == json.loads(loud.stdout)["findings"] != []


def test_quiet_also_silences_the_plans_warnings(tmp_path):
    root = tree(tmp_path / "app")
    args = ("scan", root, "--format", "json", "--plan", tmp_path / "plan.md")
    loud, quiet = radar(*args, env=ENV), radar(*args, "--quiet", env=ENV)
    assert loud.returncode == quiet.returncode == 1
    assert b"radar: warning: no GitLab project id for app" in loud.stderr
    assert quiet.stderr == b""
