"""Usage errors name the command that was run: its usage, then one `radar scan: error: ...` line,
exit 2, nothing on standard output, no traceback; whether argparse found the problem or radar did
(options that do not go together)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radar_cli import clean_env, radar


@pytest.mark.parametrize("argv, prog, message", [
    (["scan", ".", "--bogus"], "radar scan", "unrecognized arguments: --bogus"),
    (["scan", "--staged", "extra"], "radar scan", "--staged scans the git index: give no PATH and no --history"),
    (["scan"], "radar scan", "radar scan needs a PATH to scan (several, - for standard input), or --staged"),
    (["scan", "--format", "nope", "."], "radar scan",
     "argument --format: invalid choice: 'nope' (choose from 'text', 'json', 'sarif', 'gitlab', 'csv', 'markdown', 'html')"),
    (["scan", ".", "--", "ls"], "radar scan", "'radar scan' does not run a command: remove '--' and what follows"),
    (["scan", ".", "--branch", "main"], "radar scan", "--all-refs, --branch, --since-commit and --cache need --history"),
    (["scan", ".", "--mapping", "m.toml"], "radar scan",
     "--mapping applies to the migration plan only: add --plan FILE, or drop it"),
    (["scan", ".", "--project-id", "3", "--public", "--audience", "https://vault"], "radar scan",
     "--project-id, --public and --audience apply to the migration plan only: add --plan FILE, or drop them"),
    (["scan", "gitlab", "--project", "a", "--bogus"], "radar scan gitlab", "unrecognized arguments: --bogus"),
    (["scan", "gitlab", "--project", "a", "--mount", "kv"], "radar scan gitlab",
     "--mount applies to the migration plan only: add --plan FILE, or drop it"),
    (["scan", ".", "--gitlab-url", "https://gitlab.example.com"], "radar scan",
     "--gitlab-url applies to the migration plan only: add --plan FILE, or drop it"),
    (["scan", "gitlab", "--project", "a", "--include-subgroups"], "radar scan gitlab",
     "--include-subgroups and --skip-archived apply to --group only"),
    (["scan", "gitlab", "--project", "a"], "radar scan gitlab",
     "no GitLab address: give --url URL (or run inside a job, where CI_SERVER_URL is set)"),
    (["mask", "--bogus"], "radar mask", "unrecognized arguments: --bogus"),
    (["mask", "--"], "radar mask", "nothing to run after '--': name a command, or drop '--' to mask standard input"),
    (["exec", "--job", "deploy", "--"], "radar exec",
     "name the command to run after '--', e.g. radar exec --job deploy -- ./deploy.sh"),
    (["exec", "--job", "deploy", "--secrets-file", "s.yml", "--", "true"], "radar exec",
     "use either --secrets-file or --job [--ci-file], not both"),
    (["secrets", "check"], "radar secrets check", "name the job with --job NAME, or pass --secrets-file PATH"),
    (["secrets", "check", "--job", "deploy", "--bogus"], "radar secrets check", "unrecognized arguments: --bogus"),
    (["secrets", "check", "--job", "deploy", "--", "ls"], "radar secrets check",
     "'radar secrets check' does not run a command: remove '--' and what follows"),
    (["plan", "report.json", "--bogus"], "radar plan", "unrecognized arguments: --bogus"),
])
def test_a_usage_error_shows_the_usage_of_the_command_that_was_run(tmp_path, argv, prog, message):
    result = radar(*argv, env=clean_env(HOME=str(tmp_path)))
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2 and result.stdout == b""
    assert lines[0].startswith(f"usage: {prog} "), lines[0]
    assert lines[-1] == f"{prog}: error: {message}"
    assert [line for line in lines if "error:" in line] == [lines[-1]] and "Traceback" not in result.stderr.decode()


def test_an_unknown_command_shows_radar_usage(tmp_path):
    result = radar("scna", ".", env=clean_env(HOME=str(tmp_path)))
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2
    assert lines[0].startswith("usage: radar [-h]") and lines[-1].startswith("radar: error: argument COMMAND: invalid choice")


SCAN_WORDS = ["--format", "json", "nope", "--output", "--exclude", "--max-file-size", "10M", "0", "--jobs", "-1",
              "--decode-depth", "4", "--history", "--branch", "--all-refs", "--since-commit", "-q", "-v", "--quiet",
              "--verbose", "--no-color", "--min-confidence", "high", "--plan", "p.txt", "p.md", "--mapping",
              "--bogus", "-", "--", "extra", "--show-ignored", "--follow-symlinks", "=", "--format=csv"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(SCAN_WORDS), max_size=6))
def test_any_scan_command_line_is_a_report_or_one_error_never_a_traceback(tmp_path_factory, words):
    home = tmp_path_factory.mktemp("home")
    result = radar("scan", home / "missing", *words, env=clean_env(HOME=str(home), RADAR_FINGERPRINT_KEY="k"))
    lines = result.stderr.decode().splitlines()
    assert result.returncode in (0, 2), lines  # 0 for --help; the PATH does not exist
    if result.returncode == 2:
        errors = [line for line in lines if "error:" in line]
        assert len(errors) == 1 and errors[0] == lines[-1], lines
        assert (lines[0].startswith("usage: radar scan ") and lines[-1].startswith("radar scan: error: ")) or \
            (len(lines) == 1 and lines[0].startswith("radar: error: ")), lines
