"""The CI-file checks (`radar.scan.ci_checks`: CI_JOB_JWT, VAULT_SKIP_VERIFY) in directory, history,
--staged scans: same rule ids as `radar scan gitlab`, at the match's place, with the configuration's
`disable`, path allowlists and baselines applying, and valid GitLab/SARIF reports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import given, settings, strategies as st

from radar.scan.ci_checks import ci_file_findings, is_ci_file
from radar.scan.findings import FingerprintKey, Origin
from tests.git_repo import Repo
from tests.radar_cli import RADAR, clean_env, radar
from tests.report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator

ENV = clean_env(RADAR_FINGERPRINT_KEY="a-shared-fingerprint-key-for-the-tests")
CI = 'job:\n  variables:\n    VAULT_SKIP_VERIFY: "true"\n  script:\n    - echo $CI_JOB_JWT\n  # CI_JOB_JWT only in a comment\n'
EXPECTED = [(3, 5, "gitlab-ci-vault-skip-verify"), (5, 13, "gitlab-ci-job-jwt")]


def scan(*args: str | Path, cwd: Path | None = None, jobs: int = 1) -> dict:
    result = subprocess.run([*RADAR, "scan", *map(str, args), "--format", "json", "--jobs", str(jobs)], cwd=cwd,
                            capture_output=True, env=ENV)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def places(report: dict) -> list[tuple]:
    return sorted((f["path"], f["line"], f["column"], f["rule_id"]) for f in report["findings"])


def test_a_directory_scan_checks_ci_files_and_only_them(tmp_path):
    for name in (".gitlab-ci.yml", "svc/.gitlab-ci.yml", "templates/deploy.gitlab-ci.yml", ".gitlab/ci/build.yml",
                 "config/values.yml", "gitlab-ci.yml.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(CI)
    found = places(scan(tmp_path))
    checked = [".gitlab-ci.yml", ".gitlab/ci/build.yml", "svc/.gitlab-ci.yml", "templates/deploy.gitlab-ci.yml"]
    assert found == sorted((p, line, col, rule) for p in checked for line, col, rule in EXPECTED)


def test_the_checks_fingerprints_are_those_of_radar_scan_gitlab(tmp_path):
    from radar.scan.gitlab_checks import ci_file_findings as gitlab_findings

    key = FingerprintKey(b"k" * 32)
    shared = ci_file_findings(CI, ".gitlab-ci.yml", Origin(project="acme/api"), key)
    assert shared == gitlab_findings(CI, "acme/api", ".gitlab-ci.yml", key)
    assert [(f.line, f.column, f.rule_id) for f in shared] == EXPECTED


def test_is_ci_file_rule():
    assert is_ci_file(".gitlab-ci.yml") and is_ci_file("a/b/.gitlab-ci.yml") and is_ci_file("x.gitlab-ci.yml")
    assert is_ci_file(".gitlab/ci/jobs/test.yaml") and is_ci_file("./.gitlab/ci/a.yml")
    assert not is_ci_file("ci.yml") and not is_ci_file(".gitlab/ci.yml") and not is_ci_file(".gitlab/ci/readme.md")
    assert not is_ci_file("-")


def test_disable_and_path_allowlists_apply(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text(CI)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / ".gitlab-ci.yml").write_text(CI)
    (tmp_path / ".radar.toml").write_text('disable = ["gitlab-ci-job-jwt"]\n[allowlist]\npaths = ["legacy/"]\n')
    assert places(scan(tmp_path)) == [(".gitlab-ci.yml", 3, 5, "gitlab-ci-vault-skip-verify")]


def test_history_scan_finds_them_once_across_commits(tmp_path):
    repo = Repo(tmp_path / "repo")
    first = repo.commit("ci", **{".gitlab-ci.yml": CI})
    repo.commit("more", **{".gitlab-ci.yml": "stages: [test]\n" + CI})
    repo.commit("fixed", **{".gitlab-ci.yml": "stages: [test]\n"})
    report = scan(repo.path, "--history")
    by_rule = {f["rule_id"]: f for f in report["findings"]}
    assert sorted(by_rule) == ["gitlab-ci-job-jwt", "gitlab-ci-vault-skip-verify"]
    jwt = by_rule["gitlab-ci-job-jwt"]
    assert (jwt["path"], jwt["line"], jwt["column"], jwt["commit"]) == (".gitlab-ci.yml", 5, 13, first)
    assert [(loc["line"], loc["commit"]) for loc in jwt["locations"]][0] == (5, first)
    assert len(jwt["locations"]) == 2 and jwt["in_head"] is False


def test_staged_scan_checks_a_staged_ci_file(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("start", **{"README": "hello\n"})
    repo.write(".gitlab-ci.yml", CI)
    repo.git("add", ".gitlab-ci.yml")
    assert places(scan("--staged", cwd=repo.path)) == [(".gitlab-ci.yml", *e) for e in EXPECTED]


def test_a_baseline_hides_them(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / ".gitlab-ci.yml").write_text(CI)
    baseline = tmp_path / "radar-baseline.toml"
    created = radar("baseline", "create", baseline, tmp_path / "tree", env=ENV)
    assert created.returncode == 0, created.stderr
    report = scan(tmp_path / "tree", "--baseline", baseline)
    assert report["findings"] == [] and report["summary"]["baselined"] == 2


def test_gitlab_and_sarif_reports_stay_valid(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text(CI)
    for fmt, schema in (("gitlab", GITLAB_SCHEMA), ("sarif", SARIF_SCHEMA)):
        result = radar("scan", tmp_path, "--format", fmt, env=ENV)
        assert result.returncode == 1, result.stderr
        document = json.loads(result.stdout)
        assert [e.message for e in validator(schema).iter_errors(document)] == []
        count = len(document["vulnerabilities"] if fmt == "gitlab" else document["runs"][0]["results"])
        assert count == 2


def test_hostile_content_is_linear(tmp_path):
    # A 5 MB line of repeated near-matches and 20,000 real matches: bounded, all found.
    (tmp_path / ".gitlab-ci.yml").write_text("x: " + "VAULT_SKIP_VERIFY: tru" * 200_000 + "\n"
                                             + "- $CI_JOB_JWT\n" * 20_000)
    found = scan(tmp_path, "--max-file-size", "20000000")["findings"]
    assert len(found) == 20_000 and {f["rule_id"] for f in found} == {"gitlab-ci-job-jwt"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_findings_at_their_matches(text):
    for f in ci_file_findings(text, ".gitlab-ci.yml", Origin(), FingerprintKey(b"k" * 32)):
        line = text.splitlines()[f.line - 1]
        assert 1 <= f.column <= f.end_column <= len(line)
        assert not line.lstrip().startswith("#")


def test_worker_processes_run_the_checks_too(tmp_path):
    # Over 2 MB, the scan hands batches to a pool: the checks go with the engine to every worker.
    (tmp_path / ".gitlab-ci.yml").write_text(CI)
    for n in range(6):
        (tmp_path / f"notes-{n}.txt").write_text("plain words\n" * 40_000)
    found = places(scan(tmp_path, jobs=2))
    assert found == [(".gitlab-ci.yml", *e) for e in EXPECTED]
