"""`radar monitor` as a scheduled job runs it, on real git repositories and a fake GitLab: what is
new and what was resolved across runs, the state file (stable bytes, never a value, refused when
mangled or made under another key), the severity ladder as reports show it, and --fail-severity."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from git_repo import Repo
from gitlab_fake import TOKEN, FakeGitLab, Project, gitlab_server, variable  # noqa: F401
from radar.report.json import SCHEMA_PATH
from radar.scan.examples import expand
from radar_cli import assert_absent, assert_one_line_error, clean_env, radar, without_file_access_override
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator

KEY = "a-shared-fingerprint-key-for-the-monitor-tests"
ENV = clean_env(RADAR_FINGERPRINT_KEY=KEY)
GITLAB = "glpat-" + expand("{b64url:20}", "monitor-gitlab")
GITHUB = "ghp_" + expand("{ghcrc:30}", "monitor-github")
GITHUB_2 = "ghp_" + expand("{ghcrc:30}", "monitor-github-2")
GITLAB_2 = "glpat-" + expand("{b64url:20}", "monitor-gitlab-2")
GITLAB_3 = "glpat-" + expand("{b64url:20}", "monitor-gitlab-3")
PLANTED = (GITLAB, GITHUB, GITHUB_2, GITLAB_2, GITLAB_3)
LEVELS = ("critical", "high", "medium", "low", "info")


def assert_no_secret(*outputs: bytes | str) -> None:
    assert_absent(PLANTED, *outputs, message="planted secret #{n} appeared in radar's output or files")


@pytest.fixture
def repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("app/config.py", f"import os\n\nGITHUB_TOKEN = \"{GITHUB}\"\nDEBUG = False\n")
    r.write(".env", f"GITLAB_TOKEN={GITLAB}\n")
    r.commit("configuration")
    return r


@pytest.fixture
def state(tmp_path) -> Path:
    return tmp_path / "radar-state.toml"


def monitor(state: Path, *args, env: dict[str, str] = ENV, prefix: list[str] = ()) -> subprocess.CompletedProcess:
    result = radar("monitor", "--state", state, *args, env=env, prefix=prefix)
    assert_no_secret(result.stdout, result.stderr)
    if state.is_file():
        assert_no_secret(state.read_bytes())
    return result


def report(state: Path, *args, env: dict[str, str] = ENV,
           prefix: list[str] = ()) -> tuple[subprocess.CompletedProcess, dict]:
    result = monitor(state, *args, "--format", "json", env=env, prefix=prefix)
    assert result.stdout, result.stderr
    data = json.loads(result.stdout)
    validator(SCHEMA_PATH).validate(data)
    return result, data


def places(findings: list[dict]) -> list[tuple[str, str]]:
    return sorted((f["rule_id"], f["path"]) for f in findings)


def info_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.decode().splitlines() if line.startswith("radar: info: ")]


# ---- new and resolved across runs ------------------------------------------------------------

def test_the_first_run_reports_everything_new_and_the_second_nothing(repo, state):
    result, data = report(state, repo.path)
    assert result.returncode == 1, result.stderr
    assert places(data["findings"]) == [("github-personal-access-token", "app/config.py"),
                                        ("gitlab-personal-access-token", ".env")]
    assert data["monitor"] == {"new": 2, "known": 0, "resolved": [], "first_run": True}
    assert info_lines(result)[0] == "radar: info: 2 new, 0 resolved on the first run (no state yet); 0 still present"
    written = state.read_bytes()

    result, data = report(state, repo.path)
    assert result.returncode == 0, result.stderr
    assert data["findings"] == [] and data["monitor"] == {"new": 0, "known": 2, "resolved": []}
    assert data["summary"]["findings"] == 0 and data["summary"]["monitor_known"] == 2
    assert state.read_bytes() == written


def test_identical_runs_leave_the_state_byte_for_byte_and_untouched(repo, state):
    monitor(state, repo.path)
    written, stamp = state.read_bytes(), state.stat().st_mtime_ns
    for _ in range(2):
        assert monitor(state, repo.path).returncode == 0
    assert state.read_bytes() == written and state.stat().st_mtime_ns == stamp
    text = written.decode()
    assert text.count("[[finding]]") == 2 and "first_seen = " in text
    assert "line" not in text and "preview" not in text  # nothing that moves with every edit, no part of a value


@pytest.mark.parametrize("pipeline, noted", [("4711", "first_seen_pipeline = 4711\n"), ("47x", None),
                                              ("99999999999999999999", None)])
def test_a_gitlab_jobs_pipeline_is_noted_where_entries_are_first_seen(repo, state, pipeline, noted):
    env = clean_env(RADAR_FINGERPRINT_KEY=KEY, CI_PIPELINE_ID=pipeline)
    assert monitor(state, repo.path, env=env).returncode == 1
    text = state.read_text()
    assert text.count("first_seen_pipeline") == (2 if noted else 0) and (noted is None or noted in text)
    _, data = report(state, repo.path, "--show-ignored")
    [reason] = {f["ignore_reason"] for f in data["findings"]}
    assert reason.startswith("monitor: first seen ") and ("pipeline" in reason) == (noted is not None)


def test_a_secret_added_after_the_first_run_is_the_one_new_finding(repo, state):
    monitor(state, repo.path)
    repo.write("deploy/ci.env", f"TOKEN={GITLAB_2}\n")
    repo.commit("a new token")
    result, data = report(state, repo.path)
    assert result.returncode == 1
    assert places(data["findings"]) == [("gitlab-personal-access-token", "deploy/ci.env")]
    assert data["monitor"] == {"new": 1, "known": 2, "resolved": []}
    assert info_lines(result)[0] == "radar: info: 1 new, 0 resolved since the last run; 2 still present"

    result, data = report(state, repo.path, "--show-ignored")  # the known ones, marked
    assert result.returncode == 0 and len(data["findings"]) == 3
    assert all(f["ignored"] and f["ignore_reason"].startswith("monitor: first seen ") for f in data["findings"])


def test_a_removed_secret_is_resolved_once_and_named_without_its_value(repo, state):
    monitor(state, repo.path)
    (repo.path / ".env").unlink()
    repo.commit("move the token to Vault")
    result, data = report(state, repo.path)
    assert result.returncode == 0, result.stderr
    [resolved] = data["monitor"]["resolved"]
    assert (resolved["rule_id"], resolved["path"], resolved["severity"]) == \
           ("gitlab-personal-access-token", ".env", "critical")
    assert len(resolved["fingerprint"]) == 64 and "first_seen" in resolved
    assert data["summary"]["monitor_resolved"] == 1
    assert info_lines(result)[:2] == [
        "radar: info: 0 new, 1 resolved since the last run; 1 still present",
        f"radar: info: resolved: gitlab-personal-access-token .env (fingerprint {resolved['fingerprint'][:12]}, "
        f"first seen {resolved['first_seen']})",
    ]
    assert "gitlab-personal-access-token" not in state.read_text()
    _, data = report(state, repo.path)
    assert data["monitor"]["resolved"] == []  # resolved once, not on every run after


def test_a_moved_secret_is_neither_new_nor_resolved(repo, state):
    monitor(state, repo.path)
    before = state.read_bytes()
    (repo.path / "lib").mkdir()
    repo.git("mv", "app/config.py", "lib/settings.py")
    padding = "".join(f"SETTING_{n} = {n}\n" for n in range(40))
    repo.write("lib/settings.py", f"{padding}class Settings:\n    github_token = '{GITHUB}'\n")
    repo.commit("move code around")
    result, data = report(state, repo.path)
    assert result.returncode == 0, result.stderr
    assert data["monitor"] == {"new": 0, "known": 2, "resolved": []}
    assert state.read_bytes() == before  # the note of where it was first seen stays


def test_an_incomplete_scan_resolves_nothing_leaves_the_state_and_exits_2(repo, state):
    monitor(state, repo.path)
    before = state.read_bytes()
    (repo.path / ".env").chmod(0)  # the GitLab token's file cannot be read now
    try:
        result, data = report(state, repo.path, prefix=without_file_access_override())
    finally:
        (repo.path / ".env").chmod(0o644)
    assert result.returncode == 2
    assert data["monitor"]["resolved"] == [] and data["scan"]["complete"] is False
    assert state.read_bytes() == before
    lines = result.stderr.decode().splitlines()
    assert f"radar: warning: monitor state {state} left as it was: the scan was incomplete, so nothing is resolved" \
           in lines
    assert lines[-1] == "radar: error: scan incomplete: 1 file could not be read (each named in a warning above)"


def test_history_monitoring_reports_a_new_commit_and_keeps_history_only_secrets(repo, state):
    monitor(state, repo.path, "--history")
    (repo.path / ".env").unlink()
    repo.commit("remove the token")  # gone from HEAD, still in history: not resolved
    repo.write("deploy.env", f"TOKEN={GITLAB_2}\n")
    repo.commit("a new token")
    result, data = report(state, repo.path, "--history")
    assert result.returncode == 1
    assert places(data["findings"]) == [("gitlab-personal-access-token", "deploy.env")]
    assert data["monitor"]["resolved"] == [] and data["monitor"]["known"] == 2
    assert 'path = ".env"\nseverity = "medium"' in state.read_text()  # its level followed it out of HEAD


def test_baselined_findings_are_neither_new_nor_remembered(repo, state, tmp_path):
    baseline = tmp_path / "baseline.toml"
    assert radar("baseline", "create", baseline, repo.path, env=ENV).returncode == 0
    repo.write("deploy.env", f"TOKEN={GITLAB_2}\n")
    result, data = report(state, repo.path, "--baseline", baseline)
    assert result.returncode == 1
    assert places(data["findings"]) == [("gitlab-personal-access-token", "deploy.env")]
    assert state.read_text().count("[[finding]]") == 1


def test_a_text_report_lists_the_new_findings_at_their_level(repo, state):
    monitor(state, repo.path)
    repo.write("tests/fixture.py", f"TOKEN = '{GITHUB_2}'\n")
    result = monitor(state, repo.path)
    assert result.returncode == 0  # a test fixture is low: reported, below the default gate
    [line] = result.stdout.decode().splitlines()
    assert line.split("\t")[:3] == ["tests/fixture.py:1:10", "github-personal-access-token", "low"]


# ---- GitLab ------------------------------------------------------------------------------------

@pytest.fixture
def gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    gitlab_server.projects = [Project(10, "acme/api", files={".gitlab-ci.yml": "test:\n  script: make\n"}, variables=[
        variable("DEPLOY_TOKEN", GITLAB),
        variable("VAULT_SECRET", None, hidden=True),  # no value: matched by its place
    ])]
    return gitlab_server


def test_gitlab_monitoring_reports_a_new_variable_and_a_deleted_one_as_resolved(gitlab, state):
    env = clean_env(RADAR_FINGERPRINT_KEY=KEY, GITLAB_TOKEN=TOKEN)
    scan = ("gitlab", "--url", gitlab.url, "--project", "acme/api")
    result, data = report(state, *scan, env=env)
    assert result.returncode == 1 and data["monitor"]["first_run"]
    first = data["monitor"]["new"]
    assert {f["severity"] for f in data["findings"]} == {"medium"}  # variables are not in a tree
    assert 'path = "acme/api:variables/DEPLOY_TOKEN[*]"' in state.read_text()

    gitlab.projects[0].variables = [v for v in gitlab.projects[0].variables if v["key"] != "DEPLOY_TOKEN"]
    gitlab.projects[0].variables.append(variable("NEW_TOKEN", GITLAB_2))
    result, data = report(state, *scan, env=env)
    assert result.returncode == 1
    assert {f["path"] for f in data["findings"]} == {"variables/NEW_TOKEN[*]"}
    assert {r["path"] for r in data["monitor"]["resolved"]} == {"acme/api:variables/DEPLOY_TOKEN[*]"}
    assert data["monitor"]["known"] == first - len(data["monitor"]["resolved"])

    gitlab.projects[0].files[".gitlab-ci.yml"] = f"test:\n  script: make\n  variables:\n    TOKEN: {GITHUB}\n"
    _, data = report(state, *scan, env=env)
    assert [(f["path"], f["severity"]) for f in data["findings"]] == [(".gitlab-ci.yml", "critical")]


# ---- the ladder and --fail-severity --------------------------------------------------------

@pytest.fixture
def ladder_repo(tmp_path) -> Repo:
    """One finding per level a repository can give without Vault: in HEAD, only in history, a test
    fixture, ignored in the source."""
    r = Repo(tmp_path / "ladder")
    r.write("old.env", f"TOKEN={GITLAB}\n")
    r.commit("a token")
    (r.path / "old.env").unlink()
    r.write("app.py", f"TOKEN = '{GITHUB}'\n")
    r.write("tests/fixture.py", f"TOKEN = '{GITHUB_2}'\n")
    r.write("docs.md", f"GITLAB_TOKEN={GITLAB_2}  # radar:ignore\n")
    r.commit("move it")
    return r


def test_reports_show_each_finding_at_its_level_on_the_ladder(ladder_repo, state):
    _, data = report(state, ladder_repo.path, "--history", "--show-ignored")
    assert sorted((f["path"], f["severity"]) for f in data["findings"]) == [
        ("app.py", "critical"), ("docs.md", "info"), ("old.env", "medium"), ("tests/fixture.py", "low")]
    _, scanned = radar_json("scan", ladder_repo.path, "--history", "--show-ignored")
    assert {f["severity"] for f in scanned["findings"]} == {"critical"}  # radar scan keeps the rules' severities


def radar_json(*args) -> tuple[subprocess.CompletedProcess, dict]:
    result = radar(*args, "--format", "json", env=ENV)
    return result, json.loads(result.stdout)


def one_finding_repo(tmp_path: Path, level: str) -> Repo:
    r = Repo(tmp_path / level)
    if level == "critical":
        r.write("app.py", f"TOKEN = '{GITHUB}'\n")
    elif level == "medium":
        r.write("old.env", f"TOKEN={GITLAB}\n")
        r.commit("a token")
        (r.path / "old.env").unlink()
        r.write("README", "nothing here\n")
    else:
        r.write("tests/fixture.py", f"TOKEN = '{GITHUB_2}'\n")
    r.commit("the finding")
    return r


@pytest.mark.parametrize("level", ["critical", "medium", "low"])
def test_fail_severity_fails_for_a_new_finding_at_or_above_it_only(tmp_path, level):
    r = one_finding_repo(tmp_path, level)
    for threshold in LEVELS:
        state = tmp_path / f"{level}-{threshold}.toml"
        result, data = report(state, "--fail-severity", threshold, r.path, "--history")
        assert [f["severity"] for f in data["findings"]] == [level]
        fails = LEVELS.index(level) <= LEVELS.index(threshold)
        assert result.returncode == (1 if fails else 0), (threshold, result.stderr)
        if fails:
            assert result.stderr.decode().splitlines()[-1] == \
                   f"radar: error: 1 new finding(s) at severity {threshold} or above"
        again = monitor(state, "--fail-severity", threshold, r.path, "--history")
        assert again.returncode == 0  # known now: a scheduled run fails once per new finding


def test_the_default_gate_is_medium(tmp_path):
    for level, status in (("medium", 1), ("low", 0)):
        assert monitor(tmp_path / f"{level}.toml", one_finding_repo(tmp_path, level).path, "--history").returncode \
               == status


# ---- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"version = 1\nfingerprint_key_id = 'nope'\n",
     "monitor state {s}: fingerprint_key_id must be 12 lowercase hex digits"),
    (b"x = " + b"[" * 100_000, "monitor state {s}: arrays or tables nested too deeply: not a radar monitor state"),
    (b"\xff\xfe", "monitor state {s} is not UTF-8 text (byte 1); recreate it"),
    (b"version = 1\nfingerprint_key_id = '83b7dd861c51'\n[[finding]]\nrule_id = 'r'\n",
     "monitor state {s}: finding[0]: fingerprint is missing"),
])
def test_a_mangled_state_is_one_error_line_before_anything_is_scanned(repo, state, content, message):
    state.write_bytes(content)
    result = monitor(state, repo.path)
    assert result.returncode == 2 and result.stdout == b""
    assert assert_one_line_error(result) == f"radar: error: {message.format(s=state)}\n"
    assert state.read_bytes() == content


def test_a_state_made_with_another_key_is_refused_naming_both_key_ids(repo, state):
    monitor(state, repo.path, env=clean_env(RADAR_FINGERPRINT_KEY="another key"))
    result = monitor(state, repo.path)
    message = assert_one_line_error(result)
    assert result.returncode == 2
    assert "was made with fingerprint key id " in message and "set RADAR_FINGERPRINT_KEY to the key that made it" \
           in message


@pytest.mark.parametrize("args, message", [
    ((), "radar: error: nothing to scan: give radar monitor --state FILE PATH [scan options], "
         "or radar monitor --state FILE gitlab --url URL ...\n"),
    ((".", "--history", "--fail-severity=high"),
     "radar: error: --fail-severity is radar monitor's option: give it before what to scan "
     "(radar monitor --state FILE [--fail-severity LEVEL] PATH [scan options])\n"),
])
def test_a_monitor_without_anything_to_scan_or_with_its_options_misplaced_says_what_to_give(state, args, message):
    result = monitor(state, *args)
    assert (result.returncode, assert_one_line_error(result)) == (2, message)


def test_an_unknown_level_is_a_usage_error_naming_the_levels(repo, state):
    result = monitor(state, "--fail-severity", "urgent", repo.path)
    assert result.returncode == 2
    assert "not a level: 'urgent' (choose from critical, high, medium, low, info)" in result.stderr.decode()
    assert not state.exists()


@pytest.mark.parametrize("format", ["text", "json", "sarif", "gitlab", "csv", "markdown", "html"])
def test_every_format_renders_a_monitor_report_with_every_level(ladder_repo, state, format):
    monitor(state, ladder_repo.path, "--history")
    ladder_repo.write("deploy.env", f"TOKEN={GITLAB_3}\n")  # a new one among the known and the ignored
    ladder_repo.commit("a new token")
    result = monitor(state, ladder_repo.path, "--history", "--show-ignored", "--format", format)
    assert result.returncode == 1, result.stderr
    assert result.stdout
    if format == "sarif":
        validator(SARIF_SCHEMA).validate(json.loads(result.stdout))
    elif format == "gitlab":
        data = json.loads(result.stdout)
        validator(GITLAB_SCHEMA).validate(data)
        assert sorted(v["severity"] for v in data["vulnerabilities"]) == ["Critical", "Critical", "Info", "Low",
                                                                          "Medium"]


def test_radar_plan_reads_a_monitor_report_back(ladder_repo, state, tmp_path):
    monitor(state, ladder_repo.path, "--history")
    (ladder_repo.path / "app.py").unlink()
    ladder_repo.commit("remove a token")
    first_run = tmp_path / "first.json"
    _, data = report(tmp_path / "fresh-state.toml", ladder_repo.path, "--show-ignored")
    first_run.write_text(json.dumps(data))
    later = tmp_path / "later.json"
    _, data = report(state, ladder_repo.path, "--show-ignored")  # a directory scan: what left HEAD is resolved
    assert data["monitor"]["resolved"] and "first_run" in json.loads(first_run.read_text())["monitor"]
    later.write_text(json.dumps(data))
    for document in (first_run, later):
        result = radar("plan", document, "--format", "json", env=ENV)
        assert result.returncode == 0, result.stderr
        assert_no_secret(result.stdout, result.stderr)
