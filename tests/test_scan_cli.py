"""`radar scan PATH` as users run it: exit statuses, JSON shape, output forms, and no secret anywhere."""

from __future__ import annotations

import base64
import json
import os
import pty
import select
import subprocess
from pathlib import Path

import pytest

from radar.scan.examples import expand
from radar_cli import RADAR, assert_absent, assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
GITLAB = "glpat-" + expand("{b64url:20}", "cli")
GITHUB = "ghp_" + expand("{ghcrc:30}", "cli")
PASSWORD = expand("{alnum:18}", "cli-password")
AWS_SECRET = expand("{b64:40}", "cli-aws")
PEM = expand("{pem:RSA PRIVATE KEY}", "cli-pem")
PLANTED = (GITLAB, GITHUB, PASSWORD, AWS_SECRET, PEM)


def plant(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / ".env").write_text(f"GITLAB_TOKEN={GITLAB}\nDB_PASSWORD={PASSWORD}\n")
    (root / "app" / "aws.ini").write_text(f"[default]\naws_secret_access_key = {AWS_SECRET}\n")
    (root / "keys").mkdir()
    (root / "keys" / "id_rsa").write_text(PEM + "\n")
    (root / "k8s.yaml").write_text(f"data:\n  token: {base64.b64encode(GITHUB.encode()).decode()}\n")
    (root / "ok.py").write_text(f"TOKEN = '{GITHUB}'  # radar:ignore\n")
    return root


def scan_json(*args) -> tuple[subprocess.CompletedProcess, dict]:
    result = radar("scan", *args, "--format", "json", env=ENV)
    return result, json.loads(result.stdout)


def test_exit_0_when_nothing_is_found(tmp_path):
    (tmp_path / "README.md").write_text("password: ${DB_PASSWORD}\n")
    result = radar("scan", tmp_path, env=ENV)
    assert result.returncode == 0 and result.stdout == b""


def test_exit_1_when_something_is_found(tmp_path):
    result = radar("scan", plant(tmp_path), env=ENV)
    assert result.returncode == 1


def test_exit_2_with_one_line_for_a_missing_path(tmp_path):
    result = radar("scan", tmp_path / "nope", env=ENV)
    assert result.returncode == 2
    assert "no such file or directory" in assert_one_line_error(result)


def test_exit_2_for_a_bad_size():
    result = radar("scan", ".", "--max-file-size", "lots", env=ENV)
    assert result.returncode == 2 and b"not a size" in result.stderr


def test_json_lists_findings_with_relative_paths_and_1_based_positions(tmp_path):
    result, report = scan_json(plant(tmp_path))
    findings = report["findings"]
    by_rule = {f["rule_id"]: f for f in findings}
    assert set(by_rule) == {"gitlab-personal-access-token", "generic-password", "aws-secret-access-key",
                            "pem-private-key", "github-personal-access-token"}
    gitlab = by_rule["gitlab-personal-access-token"]
    assert (gitlab["path"], gitlab["line"], gitlab["column"]) == ("app/.env", 1, 14)
    for f in findings:
        assert {"rule_id", "path", "line", "column", "end_line", "end_column", "severity", "confidence",
                "fingerprint", "preview", "tags", "ignored", "secret_type", "description"} <= set(f)
        assert f["line"] >= 1 and f["column"] >= 1 and len(f["fingerprint"]) == 64
    assert by_rule["github-personal-access-token"]["path"] == "k8s.yaml"
    assert "decoded:base64" in by_rule["github-personal-access-token"]["tags"]
    assert report["summary"]["findings"] == len(findings)


def test_equal_secrets_in_two_files_share_the_fingerprint(tmp_path):
    (tmp_path / "a.env").write_text(f"T={GITLAB}\n")
    (tmp_path / "b.yml").write_text(f"token: {GITLAB}\n")
    _, report = scan_json(tmp_path)
    a, b = report["findings"]
    assert a["fingerprint"] == b["fingerprint"]


def test_suppressed_findings_are_hidden_unless_show_ignored(tmp_path):
    (tmp_path / "ok.py").write_text(f"TOKEN = '{GITHUB}'  # gitleaks:allow\n")
    hidden = radar("scan", tmp_path, "--format", "json", env=ENV)
    assert hidden.returncode == 0 and json.loads(hidden.stdout)["findings"] == []
    shown = radar("scan", tmp_path, "--format", "json", "--show-ignored", env=ENV)
    [finding] = json.loads(shown.stdout)["findings"]
    assert shown.returncode == 0
    assert finding["ignored"] is True and "gitleaks:allow" in finding["ignore_reason"]


def test_min_confidence_filters_low_ranked_findings(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "fixture.env").write_text(f"TOKEN={GITLAB}\n")
    assert radar("scan", tmp_path, env=ENV).returncode == 1
    assert radar("scan", tmp_path, "--min-confidence", "medium", env=ENV).returncode == 0


def test_piped_text_output_is_one_plain_line_per_finding(tmp_path):
    (tmp_path / "a.env").write_text(f"T={GITLAB}\n")
    result = radar("scan", tmp_path, env=ENV)
    [line] = result.stdout.decode().splitlines()
    fields = line.split("\t")
    assert fields[:5] == ["a.env:1:3", "gitlab-personal-access-token", "critical", "high", "glpa…"]
    assert b"\x1b[" not in result.stdout


def _run_on_terminal(args: list[str], env: dict[str, str]) -> bytes:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*RADAR, *args], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait(timeout=60)
    os.close(leader)
    return output


def test_terminal_output_is_a_table_without_colour_when_no_color_is_set(tmp_path):
    (tmp_path / "a.env").write_text(f"T={GITLAB}\n")
    output = _run_on_terminal(["scan", str(tmp_path)], dict(ENV, NO_COLOR="1", COLUMNS="160", TERM="xterm"))
    assert b"gitlab-personal-access-token" in output and b"a.env" in output and b"Rule" in output
    assert b"\x1b[31m" not in output and b"\x1b[1;31m" not in output and b";31m" not in output


def test_no_planted_secret_or_its_base64_appears_in_any_output(tmp_path):
    root = plant(tmp_path)
    outputs = []
    for args in (["--format", "json"], ["--format", "json", "--show-ignored"], [], ["--show-ignored"]):
        result = radar("scan", root, *args, env=ENV)
        outputs.append(result.stdout + result.stderr)
    outputs.append(_run_on_terminal(["scan", str(root), "--show-ignored"], dict(ENV, COLUMNS="200", TERM="xterm")))
    for secret in PLANTED:
        forms = [secret, base64.b64encode(secret.encode()).decode()]
        forms += [line for line in secret.splitlines() if len(line) > 8]
        assert_absent(forms, *outputs, message="a planted secret (form #{n}) leaked into the output")


@pytest.mark.parametrize("option, where, message", [
    ("--output", "missing/report.json", "cannot write the report {p}: no directory {d}; create it first"),
    ("--output", ".", "cannot write the report {p}: it is a directory; give a file name"),
    ("--plan", "missing/plan.md", "cannot write the plan {p}: no directory {d}; create it first"),
])
def test_an_unwritable_report_is_refused_before_the_scan(tmp_path, option, where, message):
    # The scan would find the planted secrets (exit 1); the refusal comes first (exit 2), so no
    # scan's findings are lost to a report that cannot be written.
    root = plant(tmp_path / "repo")
    path = tmp_path / where
    result = radar("scan", root, "--format", "json", option, path, env=ENV)
    assert result.returncode == 2
    assert assert_one_line_error(result, *[v.encode() for v in PLANTED]).rstrip("\n").endswith(
        message.format(p=path, d=path.parent))
    assert result.stdout == b""


def test_the_output_file_is_written_whole_and_replaces_the_old_one(tmp_path):
    root = plant(tmp_path / "repo")
    report = tmp_path / "report.json"
    report.write_text("old report\n")
    result = radar("scan", root, "--format", "json", "--output", report, env=ENV)
    assert result.returncode == 1 and result.stdout == b""
    assert len(json.loads(report.read_text())["findings"]) == len(PLANTED)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report.json")] == []  # no temporary left
