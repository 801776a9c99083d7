"""`radar baseline create|update` and `radar scan ... --baseline` as users run them, on real git
repositories and a fake GitLab: known findings stay known when code moves, a different secret is
new, the file does not churn, and fingerprints (baselines, SARIF, GitLab ids) are the same on
two machines given the same key."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from git_repo import Repo
from gitlab_fake import TOKEN, FakeGitLab, Project, gitlab_server, variable  # noqa: F401
from radar.report.json import SCHEMA_PATH
from radar.scan.examples import expand
from radar_cli import assert_absent, assert_one_line_error, clean_env, radar, without_file_access_override
from report_schemas import validator

KEY = "a-shared-fingerprint-key-for-the-tests"
ENV = clean_env(RADAR_FINGERPRINT_KEY=KEY)
GITLAB = "glpat-" + expand("{b64url:20}", "baseline-gitlab")
GITHUB = "ghp_" + expand("{ghcrc:30}", "baseline-github")
GITHUB_2 = "ghp_" + expand("{ghcrc:30}", "baseline-github-2")
GITLAB_2 = "glpat-" + expand("{b64url:20}", "baseline-gitlab-2")
PLANTED = (GITLAB, GITHUB, GITHUB_2, GITLAB_2)


def assert_no_secret(*outputs: bytes | str) -> None:
    assert_absent(PLANTED, *outputs, message="planted secret #{n} appeared in radar's output or files")


def run(*args, env: dict[str, str] = ENV, prefix: list[str] = ()) -> subprocess.CompletedProcess:
    result = radar(*args, env=env, prefix=prefix)
    assert_no_secret(result.stdout, result.stderr)
    return result


def report(*args, env: dict[str, str] = ENV) -> tuple[subprocess.CompletedProcess, dict]:
    result = run("scan", *args, "--format", "json", env=env)
    return result, json.loads(result.stdout)


@pytest.fixture
def repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("app/config.py", f"import os\n\nGITHUB_TOKEN = \"{GITHUB}\"\nDEBUG = False\n")
    r.write(".env", f"GITLAB_TOKEN={GITLAB}\n")
    r.commit("configuration")
    return r


def rules(findings: list[dict]) -> list[tuple[str, str]]:
    return sorted((f["rule_id"], f["path"]) for f in findings)


# ---- directory scans -------------------------------------------------------------------------

def test_a_baseline_hides_what_it_holds_and_the_scan_exits_0(repo, tmp_path):
    baseline = tmp_path / "radar-baseline.toml"
    created = run("baseline", "create", baseline, repo.path)
    assert created.returncode == 0, created.stderr
    key_id = json.loads(run("scan", repo.path, "--format", "json").stdout)["scan"]["fingerprint_key_id"]
    assert created.stderr.decode() == f"radar: info: baseline {baseline} created: 2 entries (fingerprint key id {key_id})\n"
    assert created.stdout == b""
    assert_no_secret(baseline.read_bytes())

    result = run("scan", repo.path, "--baseline", baseline)
    assert (result.returncode, result.stdout) == (0, b"")
    result, data = report(repo.path, "--baseline", baseline)
    assert result.returncode == 0 and data["findings"] == []
    assert data["summary"]["findings"] == 0 and data["summary"]["baselined"] == 2
    assert data["summary"]["baseline_resolved"] == 0


def test_moving_baselined_secrets_to_other_files_and_lines_keeps_them_known_and_the_file_unchanged(repo, tmp_path):
    baseline = tmp_path / "radar-baseline.toml"
    run("baseline", "create", baseline, repo.path)
    before = baseline.read_bytes()
    # Rename the file, push the token 40 lines down with new indentation and quoting; move the
    # other token to another file, line and syntax.
    (repo.path / "lib").mkdir()
    repo.git("mv", "app/config.py", "lib/settings.py")
    padding = "".join(f"SETTING_{n} = {n}\n" for n in range(40))
    repo.write("lib/settings.py", f"{padding}class Settings:\n    github_token = '{GITHUB}'\n")
    (repo.path / ".env").unlink()
    repo.write("deploy/ci.yml", f"# deployment\nvariables:\n  TOKEN: \"{GITLAB}\"\n")
    repo.commit("move code around")

    result, data = report(repo.path, "--baseline", baseline, "--show-ignored")
    assert result.returncode == 0, result.stderr
    assert rules(data["findings"]) == [("github-personal-access-token", "lib/settings.py"),
                                       ("gitlab-personal-access-token", "deploy/ci.yml")]
    assert all(f["ignored"] and f["ignore_reason"] == "baseline" for f in data["findings"])
    assert data["summary"]["baselined"] == 2 and data["summary"]["baseline_resolved"] == 0

    updated = run("baseline", "update", baseline, repo.path)
    assert updated.returncode == 0
    assert updated.stderr == f"radar: info: baseline {baseline} updated: 0 added, 0 dropped (no longer found), " \
                             "2 kept\n".encode()
    assert baseline.read_bytes() == before  # the notes of where things were are not rewritten


def test_a_different_secret_on_the_same_line_is_reported(repo, tmp_path):
    baseline = tmp_path / "radar-baseline.toml"
    run("baseline", "create", baseline, repo.path)
    repo.write("app/config.py", f"import os\n\nGITHUB_TOKEN = \"{GITHUB_2}\"\nDEBUG = False\n")
    result, data = report(repo.path, "--baseline", baseline)
    assert result.returncode == 1
    [new] = data["findings"]
    assert (new["rule_id"], new["path"], new["line"], new["ignored"]) == \
           ("github-personal-access-token", "app/config.py", 3, False)
    assert data["summary"] == {**data["summary"], "findings": 1, "baselined": 1, "baseline_resolved": 1}


def test_update_round_trip_is_byte_identical_when_nothing_changed(repo, tmp_path):
    baseline = tmp_path / "radar-baseline.toml"
    run("baseline", "create", baseline, repo.path)
    before = baseline.read_bytes()
    os.utime(baseline, (1_000_000_000, 1_000_000_000))
    assert run("baseline", "update", baseline, repo.path).returncode == 0
    assert baseline.read_bytes() == before
    assert baseline.stat().st_mtime == 1_000_000_000  # not even rewritten


def test_update_keeps_reasons_adds_new_findings_and_drops_gone_ones(repo, tmp_path):
    baseline = tmp_path / "radar-baseline.toml"
    run("baseline", "create", baseline, repo.path)
    # People audit an entry: reason and audited_by under the GitHub token's entry.
    text = baseline.read_text()
    block = text.index('rule_id = "github-personal-access-token"')
    end = text.index("\n\n", block) if "\n\n" in text[block:] else len(text.rstrip("\n"))
    text = text[:end] + '\nreason = "a revoked test token"\naudited_by = "alice"' + text[end:]
    baseline.write_text(text)

    (repo.path / ".env").write_text(f"GITLAB_TOKEN={GITLAB_2}\n")  # one token replaced by another
    result = run("baseline", "update", baseline, repo.path)
    assert result.returncode == 0
    assert result.stderr == f"radar: info: baseline {baseline} updated: 1 added, 1 dropped (no longer found), " \
                            "1 kept\n".encode()
    text = baseline.read_text()
    assert 'reason = "a revoked test token"\naudited_by = "alice"\n' in text
    assert text.count("[[finding]]") == 2

    result, data = report(repo.path, "--baseline", baseline, "--show-ignored")
    assert result.returncode == 0
    reasons = {f["rule_id"]: f["ignore_reason"] for f in data["findings"]}
    assert reasons == {"github-personal-access-token": "baseline: a revoked test token",
                       "gitlab-personal-access-token": "baseline"}


def test_update_after_an_incomplete_scan_drops_nothing_and_exits_2(repo, tmp_path):
    baseline = tmp_path / "radar-baseline.toml"
    run("baseline", "create", baseline, repo.path)
    before = baseline.read_bytes()
    (repo.path / ".env").chmod(0)  # the GitLab token's file cannot be read now
    try:
        result = run("baseline", "update", baseline, repo.path, prefix=without_file_access_override())
    finally:
        (repo.path / ".env").chmod(0o644)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert lines[-2] == (f"radar: info: baseline {baseline} updated: 0 added, 0 dropped (no longer found), 1 kept, "
                         "1 not found but kept (the scan could not read everything)")
    assert lines[-1] == "radar: error: scan incomplete: 1 file could not be read (each named in a warning above)"
    assert baseline.read_bytes() == before


def test_min_confidence_chooses_what_a_new_baseline_holds(tmp_path):
    tree = tmp_path / "tree"
    (tree / "tests" / "fixtures").mkdir(parents=True)
    (tree / "app.env").write_text(f"GITLAB_TOKEN={GITLAB}\n")
    (tree / "tests" / "fixtures" / "token.txt").write_text(f"GITHUB_TOKEN={GITHUB}\n")  # a test fixture: low
    baseline = tmp_path / "b.toml"
    assert run("baseline", "create", baseline, tree, "--min-confidence", "high").returncode == 0
    assert baseline.read_text().count("[[finding]]") == 1
    result, data = report(tree, "--baseline", baseline)
    assert result.returncode == 1 and rules(data["findings"]) == [("github-personal-access-token",
                                                                   "tests/fixtures/token.txt")]


def test_a_report_against_a_baseline_follows_the_published_schemas(repo, tmp_path):
    baseline = tmp_path / "b.toml"
    run("baseline", "create", baseline, repo.path)
    repo.write("new.env", f"TOKEN={GITLAB_2}\n")
    result, data = report(repo.path, "--baseline", baseline, "--show-ignored")
    assert result.returncode == 1
    validator(SCHEMA_PATH).validate(data)
    assert data["scan"]["fingerprint_key_id"] == baseline.read_text().split('fingerprint_key_id = "')[1][:12]
    sarif = json.loads(run("scan", repo.path, "--baseline", baseline, "--show-ignored", "--format", "sarif").stdout)
    kinds = sorted((r["ruleId"], [s["kind"] for s in r.get("suppressions", [])]) for r in sarif["runs"][0]["results"])
    assert kinds == [("github-personal-access-token", ["external"]), ("gitlab-personal-access-token", []),
                     ("gitlab-personal-access-token", ["external"])]


# ---- what cannot be used: one error line, exit 2, before any scan --------------------------------

def test_create_refuses_to_replace_an_existing_baseline(repo, tmp_path):
    baseline = tmp_path / "b.toml"
    baseline.write_text("reasons people wrote\n")
    result = run("baseline", "create", baseline, repo.path)
    assert result.returncode == 2
    assert assert_one_line_error(result) == (f"radar: error: baseline {baseline} exists: radar baseline update "
                                             f"{baseline} ... keeps its reasons; remove it to start afresh\n")
    assert baseline.read_text() == "reasons people wrote\n"


@pytest.mark.parametrize("content, message", [
    (None, "no baseline {b}: create it with radar baseline create {b} PATH"),
    ("version = 1\nversion = 2\n", "baseline {b}: not valid TOML: Cannot overwrite a value (at line 2, column 12); "
                                    "fix it or recreate the baseline"),
    ('version = 7\nfingerprint_key_id = "0123456789ab"\n',
     "baseline {b}: is version 7; this radar reads version 1: use the radar that wrote it, or recreate the baseline"),
])
@pytest.mark.parametrize("command", ["scan", "update"])
def test_a_missing_or_bad_baseline_is_one_error_line(repo, tmp_path, content, message, command):
    baseline = tmp_path / "b.toml"
    if content is not None:
        baseline.write_text(content)
    args = ("scan", repo.path, "--baseline", baseline) if command == "scan" else ("baseline", "update", baseline,
                                                                                  repo.path)
    result = run(*args)
    assert result.returncode == 2 and result.stdout == b""
    assert assert_one_line_error(result) == "radar: error: " + message.format(b=baseline) + "\n"


def test_a_baseline_made_with_another_key_is_refused_naming_both_key_ids(repo, tmp_path):
    baseline = tmp_path / "b.toml"
    run("baseline", "create", baseline, repo.path, env=clean_env(RADAR_FINGERPRINT_KEY="the-key-that-made-it"))
    made_with = run("scan", repo.path, "--format", "json",
                    env=clean_env(RADAR_FINGERPRINT_KEY="the-key-that-made-it")).stdout
    this_run = run("scan", repo.path, "--format", "json").stdout
    old_id, new_id = (json.loads(r)["scan"]["fingerprint_key_id"] for r in (made_with, this_run))
    for args in (("scan", repo.path, "--baseline", baseline), ("baseline", "update", baseline, repo.path)):
        result = run(*args)
        assert result.returncode == 2
        assert assert_one_line_error(result) == (
            f"radar: error: baseline {baseline} was made with fingerprint key id {old_id}; this run uses {new_id} "
            "(from RADAR_FINGERPRINT_KEY): set RADAR_FINGERPRINT_KEY to the key that made it, or recreate the "
            "baseline\n")


@pytest.mark.parametrize("extra, option", [
    (("--format", "json"), "--format"), (("--output", "x.json"), "--output"), (("--show-ignored",), "--show-ignored"),
    (("--baseline", "other.toml"), "--baseline"),
])
def test_baseline_commands_refuse_report_options(repo, tmp_path, extra, option):
    baseline = tmp_path / "b.toml"
    result = run("baseline", "create", baseline, repo.path, *extra)
    assert result.returncode == 2 and not baseline.exists()
    assert assert_one_line_error(result) == (f"radar: error: radar baseline create writes {baseline}, not a report: "
                                             f"remove {option} (radar scan ... --baseline {baseline} reports "
                                             "against the baseline)\n")


def test_a_baseline_command_without_anything_to_scan_says_what_to_give(tmp_path):
    result = run("baseline", "update", tmp_path / "b.toml")
    assert result.returncode == 2
    assert assert_one_line_error(result) == ("radar: error: nothing to scan: give radar baseline update FILE PATH "
                                             "[scan options], radar baseline update FILE gitlab --url URL ..., "
                                             "or radar baseline update FILE audit vault|ci\n")


# ---- history scans ---------------------------------------------------------------------------

def test_a_history_baseline_keeps_moved_secrets_known_and_reports_a_new_commit(repo, tmp_path):
    baseline = tmp_path / "b.toml"
    assert run("baseline", "create", baseline, repo.path, "--history").returncode == 0
    repo.git("mv", "app/config.py", "app/settings.py")
    repo.write("README.md", "nothing here\n")
    repo.commit("rename")
    result, data = report(repo.path, "--history", "--baseline", baseline)
    assert result.returncode == 0 and data["summary"]["baselined"] == 2

    repo.write("deploy.env", f"TOKEN={GITLAB_2}\n")
    repo.commit("a new token")
    result, data = report(repo.path, "--history", "--baseline", baseline)
    assert result.returncode == 1
    [new] = data["findings"]
    assert (new["rule_id"], new["path"], new["locations"][0]["path"]) == \
           ("gitlab-personal-access-token", "deploy.env", "deploy.env")


# ---- GitLab scans ----------------------------------------------------------------------------

@pytest.fixture
def gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    gitlab_server.projects = [Project(10, "acme/api", files={".gitlab-ci.yml": "test:\n  script: make\n"}, variables=[
        variable("DEPLOY_TOKEN", GITLAB),
        variable("VAULT_SECRET", None, hidden=True),  # no value: its findings are matched by place
    ])]
    return gitlab_server


def test_a_gitlab_baseline_reports_only_a_new_variable(gitlab, tmp_path):
    baseline = tmp_path / "b.toml"
    env = clean_env(RADAR_FINGERPRINT_KEY=KEY, GITLAB_TOKEN=TOKEN)
    created = run("baseline", "create", baseline, "gitlab", "--url", gitlab.url, "--project", "acme/api", env=env)
    assert created.returncode == 0, created.stderr
    text = baseline.read_text()
    assert 'path = "acme/api:variables/VAULT_SECRET[*]"' in text and 'path = "acme/api:variables/DEPLOY_TOKEN[*]"' in text

    def scan() -> tuple[subprocess.CompletedProcess, dict]:
        result = run("scan", "gitlab", "--url", gitlab.url, "--project", "acme/api", "--baseline", baseline,
                     "--format", "json", env=env)
        return result, json.loads(result.stdout)

    result, data = scan()
    assert result.returncode == 0 and data["findings"] == [] and data["summary"]["baselined"] > 0

    gitlab.projects[0].variables += [variable("NEW_TOKEN", GITLAB_2), variable("OTHER_SECRET", None, hidden=True)]
    result, data = scan()
    assert result.returncode == 1
    assert {f["path"] for f in data["findings"]} == {"variables/NEW_TOKEN[*]", "variables/OTHER_SECRET[*]"}


# ---- two machines, one key -------------------------------------------------------------------

def machine(tmp_path: Path, name: str, **extra: str) -> dict[str, str]:
    home = tmp_path / name
    home.mkdir()
    return clean_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)


def outputs(repo: Repo, env: dict[str, str], baseline: Path) -> tuple[bytes, list[str], list[str]]:
    run("baseline", "create", baseline, repo.path, env=env)
    sarif = json.loads(run("scan", repo.path, "--format", "sarif", env=env).stdout)
    gitlab = json.loads(run("scan", repo.path, "--format", "gitlab", env=env).stdout)
    return (baseline.read_bytes(),
            sorted(r["partialFingerprints"]["radarSecretFingerprint/v1"] for r in sarif["runs"][0]["results"]),
            sorted(v["id"] for v in gitlab["vulnerabilities"]))


def test_two_machines_with_the_same_key_give_identical_baselines_sarif_and_gitlab_ids(repo, tmp_path):
    (tmp_path / "key").write_text(KEY + "\n")
    one = outputs(repo, machine(tmp_path, "one", RADAR_FINGERPRINT_KEY=KEY), tmp_path / "one.toml")
    two = outputs(repo, machine(tmp_path, "two", RADAR_FINGERPRINT_KEY_FILE=str(tmp_path / "key")),
                  tmp_path / "two.toml")
    assert one == two
    assert len(one[1]) == 2 and len(one[2]) == 2


def test_two_machines_without_a_key_differ_and_say_so_instead_of_reporting_everything_as_new(repo, tmp_path):
    one, two = machine(tmp_path, "one"), machine(tmp_path, "two")
    assert outputs(repo, one, tmp_path / "one.toml")[1] != outputs(repo, two, tmp_path / "two.toml")[1]
    result = run("scan", repo.path, "--baseline", tmp_path / "one.toml", env=two)
    assert result.returncode == 2
    assert "was made with fingerprint key id" in assert_one_line_error(result)
    assert f"(from {tmp_path}/two/.config/radar/fingerprint.key)" in result.stderr.decode()


@pytest.mark.parametrize("ci", [{"CI": "true"}, {"GITLAB_CI": "true"}])
def test_a_ci_job_that_makes_a_fresh_key_is_warned_once(repo, tmp_path, ci):
    env = machine(tmp_path, "runner", **ci)
    first = run("scan", repo.path, "--format", "json", env=env)
    assert first.returncode == 1
    key_file = tmp_path / "runner" / ".config" / "radar" / "fingerprint.key"
    assert first.stderr.decode() == (
        f"radar: warning: created a new fingerprint key in {key_file}: fingerprints of this CI job (baselines, SARIF "
        "partialFingerprints, GitLab vulnerability ids) will not match other runs; set RADAR_FINGERPRINT_KEY (a "
        "masked CI/CD variable, e.g. from openssl rand -hex 32) or RADAR_FINGERPRINT_KEY_FILE\n")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    again = run("scan", repo.path, "--format", "json", env=env)
    assert again.stderr == b""
    with_key = run("scan", repo.path, "--format", "json", env=machine(tmp_path, "keyed", RADAR_FINGERPRINT_KEY=KEY, **ci))
    assert with_key.stderr == b""


def test_a_bad_scan_argument_is_the_scan_commands_usage_error(tmp_path):
    result = run("baseline", "create", tmp_path / "b.toml", tmp_path, "--no-such-option")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == "radar scan: error: unrecognized arguments: --no-such-option"


def test_a_baseline_committed_in_the_repository_is_no_finding_itself(repo):
    baseline = repo.path / ".radar-baseline.toml"
    assert run("baseline", "create", baseline, repo.path).returncode == 0
    repo.commit("the baseline")
    for extra in ((), ("--history",)):
        result, data = report(repo.path, *extra, "--baseline", baseline, "--show-ignored")
        assert result.returncode == 0
        assert all(f["path"] != ".radar-baseline.toml" for f in data["findings"]) and len(data["findings"]) == 2
