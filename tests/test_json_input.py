"""JSON (and TOML) that radar reads from outside, however deeply nested, never crashes it: a
findings report's neighbours, the `--mapping` file, a token's header in a scanned file, a secret's
value given to `radar mask`, a Vault response, the engine's cache files. A document nested 100,000
deep is bad input, handled like any other malformed document."""

from __future__ import annotations

import base64
import glob
import json
import os
from pathlib import Path

import pytest

from radar.json_input import JSONNestingError, loads
from radar.scan.examples import expand
from radar.vault.transport import AnswerTooDeep, Response
from radar_cli import assert_one_line_error, clean_env, radar

DEEP = "[" * 100_000 + "]" * 100_000
ENV = clean_env(RADAR_FINGERPRINT_KEY="json-input")
REPORT = {"findings": [], "summary": {"findings": 0},
          "scan": {"kind": "directory", "target": "app", "root": "/work/app", "started": "2024-03-01T12:00:00Z",
                   "finished": "2024-03-01T12:00:00Z", "radar_version": "0.1.0"}}


def test_deeply_nested_json_is_a_value_error_not_a_recursion_error():
    with pytest.raises(JSONNestingError):
        loads(DEEP)
    with pytest.raises(ValueError):
        loads(DEEP.encode())
    assert loads('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


def test_a_number_too_long_for_python_is_malformed_json():
    with pytest.raises(json.JSONDecodeError):
        loads('{"line": ' + "1" * 5000 + "}")
    with pytest.raises(json.JSONDecodeError):
        loads(b'[' + b"9" * 5000 + b"]")


def test_a_report_holding_a_number_too_long_for_python_is_one_error_line(tmp_path):
    text = json.dumps(REPORT).replace('"findings": 0', '"findings": ' + "1" * 5000)
    (tmp_path / "findings.json").write_text(text)
    result = radar("plan", tmp_path / "findings.json", env=ENV)
    assert result.returncode == 2
    assert "findings.json: not JSON" in assert_one_line_error(result)


def test_a_deeply_nested_mapping_file_is_one_error_line(tmp_path):
    (tmp_path / "findings.json").write_text(json.dumps(REPORT))
    (tmp_path / "m.toml").write_text("[vault]\nmount = " + DEEP + "\n")
    result = radar("plan", tmp_path / "findings.json", "--mapping", tmp_path / "m.toml", env=ENV)
    assert result.returncode == 2
    assert "m.toml: arrays or tables nested too deeply" in assert_one_line_error(result)


def test_a_scanned_token_with_a_deeply_nested_header_does_not_stop_the_scan(tmp_path):
    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    header = part('{"alg":"HS256","x":' + "[" * 5000 + "]" * 5000 + "}")
    payload = part('{"sub":"1234567890","name":"Dev"}')
    signature = expand("{b64url:43}", "json-input-jwt")
    gitlab = "glpat-" + expand("{b64url:20}", "json-input-jwt")
    (tmp_path / "app.env").write_text(f"TOKEN={header}.{payload}.{signature}\nGITLAB_TOKEN={gitlab}\n")
    result = radar("scan", tmp_path, "--format", "json", env=ENV)
    assert result.returncode == 1, result.stderr[-300:]
    assert result.stderr == b""
    # The JWT's header cannot be read, so it does not validate (the rule requires it): the scan
    # goes on and reports the file's other token.
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == ["gitlab-personal-access-token"]


def test_a_secret_holding_deeply_nested_json_is_still_masked():
    value = '{"token": ' + "[" * 5000 + '"x"' + "]" * 5000 + "}"
    result = radar("mask", "--secret-env", "DEEP_SECRET", input=b"before " + value.encode() + b" after\n",
                   env=clean_env(DEEP_SECRET=value))
    assert result.returncode == 0 and result.stderr == b""
    if result.stdout != b"before [MASKED] after\n":
        pytest.fail("the secret was not masked as a whole")


def test_a_deeply_nested_vault_response_is_refused_by_the_client():
    # The client's own limit (far below the parser's) refuses it before anything reads it.
    with pytest.raises(AnswerTooDeep):
        Response(200, DEEP.encode(), "application/json").json()


def test_a_deeply_nested_engine_cache_file_is_worked_out_again(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "app.env").write_text(f"GITLAB_TOKEN=glpat-{expand('{b64url:20}', 'json-input')}\n")
    env = clean_env(RADAR_FINGERPRINT_KEY="json-input", XDG_CACHE_HOME=str(tmp_path / "cache"))
    first = radar("scan", tmp_path / "tree", env=env)
    cached = glob.glob(os.path.join(tmp_path, "cache", "radar", "plan-*.json"))
    assert first.returncode == 1 and cached
    for path in cached:
        Path(path).write_text(DEEP)
    again = radar("scan", tmp_path / "tree", env=env)
    assert again.returncode == 1 and again.stderr == b"" and again.stdout == first.stdout
