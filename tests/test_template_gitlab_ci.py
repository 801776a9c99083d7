"""templates/radar.gitlab-ci.yml: a CI file GitLab (and radar's own CI-YAML reader) accepts, whose
org jobs, run as GitLab runs them (each script line in a shell that stops at the first failing
line, one job per `parallel:` index), give the unsharded scan's findings, and whose monitoring job
keeps its state between green runs through the job-artifacts API."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from gitlab_fake import TOKEN, FakeGitLab, Group, Project, serving, variable
from radar.scan.examples import expand
from radar.scan.shard import MAX_SHARDS
from radar.vault.ciyaml import job_definition, load_ci_file

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "radar.gitlab-ci.yml"
JOBS = ("radar-merge-request", "radar-org-scan", "radar-org-report", "radar-monitor")
SCHEDULED = '$CI_PIPELINE_SOURCE == "schedule" && $RADAR_SCHEDULE == "org"'


@pytest.fixture(scope="module")
def template() -> dict:
    return load_ci_file(str(TEMPLATE))


def test_the_template_is_yaml_radar_reads(template):
    assert yaml.safe_load(TEMPLATE.read_text()) == template  # no tags, nothing radar's reader adds
    for job in JOBS:
        job_definition(template, job, str(TEMPLATE))  # extends: resolved without error
        assert template[job]["extends"] == ".radar"


def test_the_template_runs_each_job_when_meant(template):
    assert template["radar-merge-request"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert template["radar-org-scan"]["rules"] == template["radar-org-report"]["rules"] == [{"if": SCHEDULED}]
    assert 2 <= template["radar-org-scan"]["parallel"] <= MAX_SHARDS
    assert template["radar-org-report"]["needs"] == ["radar-org-scan"]
    mr = " ".join(template["radar-merge-request"]["script"])
    assert '--history --branch HEAD --since-commit "$CI_MERGE_REQUEST_DIFF_BASE_SHA"' in mr
    assert template["radar-merge-request"]["artifacts"]["reports"] == {
        "secret_detection": "gl-secret-detection-report.json"}
    assert template["radar-monitor"]["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule" && $RADAR_SCHEDULE == "monitor"'}]
    assert template["radar-monitor"]["artifacts"]["paths"] == [template["radar-monitor"]["variables"]["RADAR_STATE"]]


def _run_job(template: dict, job: str, cwd: Path, env: dict[str, str]) -> int:
    """The job's script as a runner runs it: the lines in one shell, stopping at the first failure
    (the pip install of before_script is left out: radar is installed here)."""
    script = "\n".join(template[job]["script"])
    return subprocess.run(["sh", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, timeout=120).returncode


def test_the_org_jobs_give_the_unsharded_findings(template, tmp_path):
    shared = "glpat-" + expand("{b64url:20}", "template-shared")
    with serving(FakeGitLab()) as gl:
        gl.groups = [Group(5, "org", [variable("GROUP_TOKEN", shared)])]
        gl.projects = [Project(i, f"org/p{i}", variables=[variable("DEPLOY_TOKEN", shared if i % 3 else
                                                                     "glpat-" + expand("{b64url:20}", f"t{i}"))])
                       for i in range(1, 25)]
        env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "LANG": "C.UTF-8",
               "CI_SERVER_URL": gl.url, "GITLAB_TOKEN": TOKEN, "RADAR_FINGERPRINT_KEY": "template-key",
               "RADAR_GROUP": "org", "CI_PIPELINE_SOURCE": "schedule", "RADAR_SCHEDULE": "org"}
        total = template["radar-org-scan"]["parallel"]
        for index in range(1, total + 1):
            status = _run_job(template, "radar-org-scan", tmp_path,
                              {**env, "CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": str(total)})
            assert status == 0  # findings do not fail a shard: the report job gives the verdict
        assert sorted(p.name for p in tmp_path.iterdir()) == [f"radar-shard-{i}.json" for i in range(1, total + 1)]
        assert _run_job(template, "radar-org-report", tmp_path, env) == 1  # the org has findings
        unsharded = subprocess.run(["radar", "scan", "gitlab", "--group", "org", "--include-subgroups",
                                    "--format", "json"], env=env, capture_output=True, timeout=120)
    merged = json.loads((tmp_path / "radar-report.json").read_text())
    expected = json.loads(unsharded.stdout)
    assert merged["findings"] == expected["findings"] and merged["summary"] == expected["summary"]
    assert any(f["rule_id"] == "gitlab-variable-duplicated" for f in merged["findings"])
    gitlab = json.loads((tmp_path / "gl-secret-detection-report.json").read_text())
    assert len(gitlab["vulnerabilities"]) == merged["summary"]["findings"]


def _monitored_repository(tmp_path: Path, seed: str) -> tuple[Path, str]:
    """A repository whose one commit plants a GitLab token (returned), beside a README."""
    token = "glpat-" + expand("{b64url:20}", seed)
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (repo / "deploy.env").write_text(f"GITLAB_TOKEN={token}\n")
    (repo / "README.md").write_text("# app\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "deploy settings"], check=True)
    return repo, token


def _monitor_environment(job: dict, gl: FakeGitLab, repo: Path, home: Path) -> dict[str, str]:
    """What GitLab gives the monitor job of project 3 (acme/app) on main, plus its own variables."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "LANG": "C.UTF-8",
            **job["variables"], "CI_API_V4_URL": f"{gl.url}/api/v4", "CI_PROJECT_ID": "3",
            "CI_COMMIT_REF_NAME": "main", "CI_JOB_NAME": "radar-monitor", "CI_JOB_TOKEN": TOKEN,
            "RADAR_FINGERPRINT_KEY": "template-key", "HOME": str(home), "CI_PROJECT_DIR": str(repo)}


def test_the_monitor_job_keeps_its_state_between_green_runs(template, tmp_path):
    repo, token = _monitored_repository(tmp_path, "template-monitor")
    job = template["radar-monitor"]
    state = repo / job["variables"]["RADAR_STATE"]
    with serving(FakeGitLab()) as gl:
        project = Project(3, "acme/app")
        gl.projects = [project]
        env = _monitor_environment(job, gl, repo, tmp_path)

        assert _run_job(template, "radar-monitor", repo, env) == 1  # no state yet (404): the token is new
        first = state.read_bytes()
        if token.encode() in first:  # pytest.fail: an assert would print the state, value and all
            pytest.fail("the planted token is in the monitor's state", pytrace=False)
        assert (repo / "gl-secret-detection-report.json").is_file()
        assert _run_job(template, "radar-monitor", repo, env) == 1  # that run failed: GitLab kept no state
        project.artifacts[("main", "radar-monitor", "radar-state.toml")] = first  # as if it had passed
        assert _run_job(template, "radar-monitor", repo, env) == 0  # known since the last green run
        # The clean blobs are remembered in the file GitLab's cache: keeps (the token's blob is not),
        # and nothing else of radar's cache: its compiled keywords and expressions carry no key.
        written = [p for p in (repo / ".radar-cache").rglob("*") if p.is_file()]
        kept = [p for p in written if any(fnmatch.fnmatch(str(p.relative_to(repo)), pattern)
                                          for pattern in job["cache"]["paths"])]
        assert len(written) > len(kept) and any(p.name.endswith(".hsdb") for p in written)
        [cached] = kept
        assert cached.name.startswith("clean-blobs-")
        assert len(cached.read_text().splitlines()) == 1 + 1  # a header, and README's blob: the token's is not clean
        assert any("/jobs/artifacts/main/raw/radar-state.toml?job=radar-monitor" in r for r in gl.requests)

        project.artifacts_error = 500
        state.write_bytes(b"left by a previous job")
        assert _run_job(template, "radar-monitor", repo, env) == 2  # never taken for a first run
        assert not (repo / "radar-state.toml").read_bytes().startswith(b"# radar")


@contextmanager
def object_storage(content: bytes) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A stand-in for the object storage GitLab redirects an artifact download to (a pre-signed
    URL needs no token): it answers `content` to any GET and keeps each request's headers."""
    seen: list[dict[str, str]] = []

    class Storage(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            seen.append({name.lower(): value for name, value in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Storage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_monitor_job_follows_a_redirect_to_object_storage_without_the_token(template, tmp_path):
    # GitLab redirects an artifact download to object storage when artifacts are kept there: the
    # state comes from there, and the job token (or RADAR_STATE_TOKEN) stays with GitLab.
    repo, _ = _monitored_repository(tmp_path, "template-storage")
    job = template["radar-monitor"]
    with serving(FakeGitLab()) as gl:
        gl.projects = [Project(3, "acme/app")]
        env = _monitor_environment(job, gl, repo, tmp_path)
        assert _run_job(template, "radar-monitor", repo, env) == 1  # a first run: the token is new
        state = (repo / job["variables"]["RADAR_STATE"]).read_bytes()
        for name in ("CI_JOB_TOKEN", "RADAR_STATE_TOKEN"):  # JOB-TOKEN, or PRIVATE-TOKEN
            with object_storage(state) as (storage, seen):
                gl.redirect = storage
                assert _run_job(template, "radar-monitor", repo, {**env, name: TOKEN}) == 0  # the state was read
            assert len(seen) == 1 and "/jobs/artifacts/main/raw/radar-state.toml" in gl.requests[-1]
            assert not {"private-token", "job-token", "authorization"} & set(seen[0])
