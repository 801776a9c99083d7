"""Real trees whose file names and commit authors are hostile, scanned by the real command line.

A file named with bytes that are not UTF-8 (`\\xff\\xfe.env`) is named in every report, in
radar's escaped form, written to a file or to standard output, with exit status 1 for the
finding beside it; a file name or commit author holding a line break, a tab or a terminal escape
sequence adds no line, column or escape sequence to the text, CSV or Markdown output or to the
warnings on standard error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from radar.report import FORMATS
from radar.report.csv import COLUMNS
from radar.report.json import SCHEMA_PATH
from radar.scan.examples import expand
from radar_cli import clean_env, radar
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator

TOKEN = "glpat-" + expand("{b64url:20}", "hostile-names")
ENV = clean_env(RADAR_FINGERPRINT_KEY="hostile-names")
NOT_UTF8 = b"\xff\xfe.env"
SHOWN = "\\xff\\xfe.env"  # radar's escaped form of that name: the bytes as \xNN
# Names that would add a line, a column, a carriage return or colour, and one whose text a
# bidirectional override would show reversed.
CONTROL_NAMES = {b"new\nline.env": "new\\nline.env", b"tab\there.env": "tab\\there.env",
                 b"cr\r.env": "cr\\r.env", b"\x1b[31mred.env": "\\x1b[31mred.env",
                 "evil\u202egnp.env".encode(): "evil\\u202egnp.env"}


def _tree(root: Path, names: list[bytes]) -> Path:
    root.mkdir()
    (root / "config.env").write_text(f"GITLAB_TOKEN={TOKEN}\n")
    for name in names:
        with open(os.path.join(os.fsencode(root), name), "wb") as f:
            f.write(f"GITLAB_TOKEN={TOKEN}\n".encode())
    return root


def _assert_clean(output: bytes, allowed: bytes = b"\n") -> None:
    """UTF-8 with no control byte but the format's own line ends (the failure names no text)."""
    output.decode("utf-8")
    for byte in set(output) - set(allowed):
        if byte < 0x20 or byte == 0x7F:
            pytest.fail(f"control byte 0x{byte:02x} in the output")


def _check(name: str, report: bytes, schemas: dict) -> list[str]:
    """The report of format `name` is valid for its consumers; returns the paths it names."""
    text = report.decode("utf-8")
    if name in ("json", "sarif", "gitlab"):
        document = json.loads(text)
        schemas[name].validate(document)
        if name == "json":
            return [f["path"] for f in document["findings"]]
        if name == "sarif":
            return [unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
                    for r in document["runs"][0]["results"]]
        return [v["location"]["file"] for v in document["vulnerabilities"]]
    if name == "csv":
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert all(len(row) == len(COLUMNS) for row in rows)
        return [row[0] for row in rows[1:]]
    if name == "text":
        _assert_clean(report, b"\n\t")
        return [line.split("\t")[0].rsplit(":", 2)[0] for line in text.splitlines()]
    _assert_clean(report)
    return [SHOWN] if SHOWN in text.replace("\\\\", "\\") else []  # Markdown escapes a backslash


@pytest.fixture(scope="module")
def schemas():
    return {"json": validator(SCHEMA_PATH), "sarif": validator(SARIF_SCHEMA), "gitlab": validator(GITLAB_SCHEMA)}


@pytest.mark.parametrize("name", FORMATS)
def test_a_file_name_that_is_not_utf8_is_named_in_every_report_written_to_a_file(tmp_path, schemas, name):
    tree = _tree(tmp_path / "t", [NOT_UTF8])
    out = tmp_path / "out"
    out.mkdir()
    result = radar("scan", tree, "--format", name, "--output", out / f"report.{name}", env=ENV)
    assert result.returncode == 1, result.stderr[-400:]
    assert result.stderr == b"" and result.stdout == b""
    assert [p.name for p in out.iterdir()] == [f"report.{name}"]  # and no temporary file left
    assert SHOWN in _check(name, (out / f"report.{name}").read_bytes(), schemas)


@pytest.mark.parametrize("name", FORMATS)
def test_a_file_name_that_is_not_utf8_is_named_in_every_report_on_standard_output(tmp_path, schemas, name):
    result = radar("scan", _tree(tmp_path / "t", [NOT_UTF8]), "--format", name, env=ENV)
    assert result.returncode == 1, result.stderr[-400:]
    assert SHOWN in _check(name, result.stdout, schemas)


def test_control_characters_in_file_names_add_no_line_or_column_to_piped_text(tmp_path):
    result = radar("scan", _tree(tmp_path / "t", list(CONTROL_NAMES)), env=ENV)
    assert result.returncode == 1
    _assert_clean(result.stdout, b"\n\t")
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1 + len(CONTROL_NAMES)
    assert all(len(line.split("\t")) == 6 for line in lines)  # location, rule, severity, confidence, preview, fingerprint
    assert {line.split("\t")[0].rsplit(":", 2)[0] for line in lines} == {"config.env", *CONTROL_NAMES.values()}


def test_control_characters_in_file_names_stay_inside_their_csv_and_markdown_cells(tmp_path):
    tree = _tree(tmp_path / "t", list(CONTROL_NAMES))
    table = radar("scan", tree, "--format", "csv", env=ENV)
    _assert_clean(table.stdout, b"\r\n")
    rows = list(csv.reader(io.StringIO(table.stdout.decode(), newline="")))
    assert len(rows) == 2 + len(CONTROL_NAMES) and all(len(row) == len(COLUMNS) for row in rows)
    assert {row[0] for row in rows[1:]} == {"config.env", *CONTROL_NAMES.values()}
    page = radar("scan", tree, "--format", "markdown", env=ENV)
    _assert_clean(page.stdout)
    findings = page.stdout.decode().split("## Findings\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(findings) == 2 + 1 + len(CONTROL_NAMES)  # header, alignment, one row per finding


def test_a_warning_naming_such_a_file_is_one_line_on_standard_error(tmp_path):
    tree = _tree(tmp_path / "t", [])
    (tree / "latin\n\x1b[2Jone.env").write_bytes(b"caf\xe9 GITLAB_TOKEN=" + TOKEN.encode() + b"\n")
    result = radar("scan", tree, env=ENV)
    assert result.returncode == 1
    _assert_clean(result.stderr)
    assert result.stderr == b"radar: warning: latin\\n\\x1b[2Jone.env: not valid UTF-8; scanned as Latin-1\n"


def test_a_commit_author_with_control_characters_stays_in_its_cell(tmp_path):
    repo = _tree(tmp_path / "repo", [])
    author = "Ev\x1b[31mil\tName"
    env = dict(os.environ, GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL="dev@example.com",
               GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "config"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)
    table = radar("scan", repo, "--history", "--format", "csv", env=ENV)
    assert table.returncode == 1, table.stderr[-400:]
    _assert_clean(table.stdout, b"\r\n")
    [header, row] = list(csv.reader(io.StringIO(table.stdout.decode(), newline="")))
    assert dict(zip(header, row))["author"] == "Ev\\x1b[31mil\\tName <dev@example.com>"
    document = json.loads(radar("scan", repo, "--history", "--format", "json", env=ENV).stdout)
    assert document["findings"][0]["first_seen"]["author"] == "Ev\\x1b[31mil\\tName <dev@example.com>"


@pytest.mark.parametrize("suffix", [".md", ".html", ".json"])
def test_such_file_names_reach_every_plan_format_escaped(tmp_path, suffix):
    tree = _tree(tmp_path / "t", [NOT_UTF8, *CONTROL_NAMES])
    plan = tmp_path / f"plan{suffix}"
    result = radar("scan", tree, "--format", "json", "--output", tmp_path / "findings.json", "--plan", plan,
                   "--project-id", "7", env=ENV)
    assert result.returncode == 1, result.stderr[-400:]
    written = plan.read_bytes()
    _assert_clean(written)
    text = json.dumps(json.loads(written)) if suffix == ".json" else written.decode()
    for shown in (SHOWN, *CONTROL_NAMES.values()):
        assert shown.replace("\\", "") in text.replace("\\", "")  # each format quotes a backslash its own way
    again = radar("plan", tmp_path / "findings.json", "--project-id", "7", "--format",
                  {".md": "markdown", ".html": "html", ".json": "json"}[suffix], env=ENV)
    assert again.returncode == 0, again.stderr[-400:]
    assert again.stdout == written  # the JSON report, already escaped, is not escaped twice


def test_radar_plan_escapes_control_characters_in_a_report_written_by_hand(tmp_path):
    finding = {"rule_id": "generic-password", "secret_type": "Password", "description": "Password",
               "path": "a\n\x1b[2Jb\udcff.env", "line": 1, "column": 1, "end_line": 1, "end_column": 9,
               "severity": "high", "confidence": "high", "fingerprint": "ab" * 32, "preview": "[redacted]",
               "tags": [], "ignored": False, "name": "DB_PASSWORD"}
    scan = {"kind": "directory", "target": "t", "root": "/t", "started": "2024-03-01T12:00:00Z",
            "finished": "2024-03-01T12:00:00Z", "radar_version": "0.1.0"}
    report = tmp_path / "findings.json"
    report.write_text(json.dumps({"findings": [finding], "summary": {"findings": 1}, "scan": scan}))
    for format in ("markdown", "html", "json"):
        result = radar("plan", report, "--project", "g/app", "--project-id", "7", "--format", format, env=ENV)
        assert result.returncode == 0, result.stderr[-400:]
        _assert_clean(result.stdout)
        assert "anx1b[2Jbxff.env" in result.stdout.decode().replace("\\", "")  # each format quotes \\ its own way
