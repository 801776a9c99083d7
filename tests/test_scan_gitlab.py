"""`radar scan gitlab` end to end: the real CLI and python-gitlab against a fake GitLab (tests/gitlab_fake.py)
that answers like GitLab's REST API v4: pagination, subgroups, shared and archived projects, every kind
of variable, CI files, 401/403/404/429."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from gitlab_fake import (TOKEN, FakeGitLab, Group, Project, gitlab_server, instance_variable,  # noqa: F401
                         serving, variable)
from radar.scan.examples import expand
from radar_cli import assert_absent, assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key", GITLAB_TOKEN=TOKEN)
SHARED_TOKEN = "glpat-" + expand("{b64url:20}", "gitlab-shared")
CI_TOKEN = "glpat-" + expand("{b64url:20}", "gitlab-ci-file")
ARCHIVED_TOKEN = "glpat-" + expand("{b64url:20}", "gitlab-archived")
SUB_TOKEN = "glpat-" + expand("{b64url:20}", "gitlab-subgroup")
DB_PASSWORD = "Xk9vpL2wQ8tmN4rz7Yh3"
GROUP_SECRET = "Qz4mW8kT2nV6bR9xL3pJ"
HIDDEN_SECRET = "hidden-is-never-returned-by-the-api"
VALUES = (SHARED_TOKEN, CI_TOKEN, ARCHIVED_TOKEN, SUB_TOKEN, DB_PASSWORD, GROUP_SECRET)
CI_FILE = f"""\
variables:
  API_TOKEN: "{CI_TOKEN}"
deploy:
  script:
    - vault login -method=jwt jwt=$CI_JOB_JWT_V2
  variables:
    VAULT_SKIP_VERIFY: "true"
"""


@pytest.fixture
def gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    gl = gitlab_server
    gl.max_per_page = 2  # GitLab caps per_page at 100; a small cap makes every listing span pages
    gl.groups = [Group(1, "acme", [variable("GROUP_DEPLOY_PASSWORD", GROUP_SECRET, protected=True, masked=True)]),
                 Group(2, "acme/platform", [variable("PLATFORM_TOKEN", SUB_TOKEN, masked=True)])]
    gl.projects = [
        Project(10, "acme/api", files={".gitlab-ci.yml": CI_FILE}, variables=[
            variable("DEPLOY_TOKEN", SHARED_TOKEN),
            variable("DB_PASSWORD", DB_PASSWORD, variable_type="file", protected=True, masked=True,
                     environment_scope="production"),
            variable("LOG_LEVEL", "debug", raw=True),
            variable("VAULT_SECRET", HIDDEN_SECRET, protected=True, hidden=True, environment_scope="production"),
        ] + [variable(f"FEATURE_{i}", "on") for i in range(5)]),
        Project(11, "acme/web", ci_config_path="ci/pipeline.yml", files={"ci/pipeline.yml": "test:\n  script: make\n"},
                variables=[variable("GL_TOKEN", SHARED_TOKEN, masked=True, protected=True, environment_scope="prod")]),
        Project(12, "acme/legacy", archived=True, variables=[variable("OLD_TOKEN", ARCHIVED_TOKEN)]),
        Project(13, "acme/platform/core", variables=[variable("CORE_API_KEY", SUB_TOKEN)]),
        Project(14, "acme/locked", error=403),
        Project(15, "acme/vanished", error=404),
        Project(16, "partner/tools", shared_with=("acme",), default_branch=None),
        Project(17, "acme/expired", error=401),
    ]
    return gl


def scan(gl: FakeGitLab, *args: str, env: dict[str, str] = ENV):
    return radar("scan", "gitlab", "--url", gl.url, *args, "--format", "json", "--jobs", "1", env=env)


def findings(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


def assert_no_value(result) -> None:
    values = (*VALUES, HIDDEN_SECRET)
    assert_absent([*values, *(value[:12] for value in values)], result.stdout + result.stderr)


def test_group_scan_reports_variables_ci_files_and_skipped_projects(gitlab):
    result = scan(gitlab, "--group", "acme")
    # Three projects could not be read: the report holds everything else, and the run fails.
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().splitlines()[-1] == \
        "radar: error: scan incomplete: 3 projects could not be read (each named in a warning above)"
    assert json.loads(result.stdout)["summary"]["unreadable"] == 3
    assert_no_value(result)
    found = findings(result)
    owners = {f.get("project") or f.get("group") for f in found}
    # Archived and shared projects are in by default; subgroups only with --include-subgroups.
    assert owners == {"acme", "acme/api", "acme/web", "acme/legacy"}
    # Every listing spanned several pages, followed through the Link header.
    assert any("/groups/1/projects" in r and "page=3" in r for r in gitlab.requests)
    assert any("/projects/10/variables" in r and "page=5" in r for r in gitlab.requests)
    stderr = result.stderr.decode()
    assert "radar: warning: project acme/locked: skipped: access denied (403 Forbidden" in stderr
    assert "radar: warning: project acme/vanished: skipped: not found" in stderr
    assert "radar: warning: project acme/expired: skipped: the token was refused (401 Unauthorized)" in stderr

    by = {(f.get("project") or f.get("group"), f["rule_id"], f.get("key"), f.get("environment_scope")) for f in found}
    # A provider token in a variable, found by the detector suite, with the key and scope as fields.
    assert ("acme/api", "gitlab-personal-access-token", "DEPLOY_TOKEN", "*") in by
    # Its weaknesses, one finding each; a hidden variable has no value to report but its flags.
    for rule in ("unmasked", "unprotected", "not-hidden", "all-environments"):
        assert ("acme/api", f"gitlab-variable-{rule}", "DEPLOY_TOKEN", "*") in by
    assert ("acme/api", "gitlab-variable-not-hidden", "DB_PASSWORD", "production") in by
    assert ("acme/api", "gitlab-variable-unmasked", "DB_PASSWORD", "production") not in by
    assert ("acme/api", "gitlab-variable-unprotected", "VAULT_SECRET", "production") not in by
    assert ("acme", "gitlab-variable-not-hidden", "GROUP_DEPLOY_PASSWORD", "*") in by
    assert not any(key in ("LOG_LEVEL", "FEATURE_0") for _, _, key, _ in by)

    duplicated = [f for f in found if f["rule_id"] == "gitlab-variable-duplicated"]
    assert len(duplicated) == 1
    assert "acme/api:DEPLOY_TOKEN[*]" in duplicated[0]["description"]
    assert "acme/web:GL_TOKEN[prod]" in duplicated[0]["description"]

    ci = {(f["rule_id"], f["path"], f["line"]) for f in found if f.get("project") == "acme/api" and "key" not in f}
    assert ("gitlab-personal-access-token", ".gitlab-ci.yml", 2) in ci
    assert ("gitlab-ci-job-jwt", ".gitlab-ci.yml", 5) in ci
    assert ("gitlab-ci-vault-skip-verify", ".gitlab-ci.yml", 7) in ci
    # Reported once: the engine's pass over a directory's CI files does not run again here.
    assert sum(f["rule_id"] == "gitlab-ci-job-jwt" and f.get("project") == "acme/api" for f in found) == 1
    # ci_config_path is read instead of .gitlab-ci.yml.
    assert any("/projects/11/repository/files/ci%2Fpipeline.yml/raw" in r for r in gitlab.requests)
    for f in found:
        assert f["remediation"]
    token = next(f for f in found if f["rule_id"] == "gitlab-personal-access-token" and f.get("key") == "DEPLOY_TOKEN")
    assert token["remediation"] == "move to Vault at acme/api/DEPLOY_TOKEN and read it with secrets:"
    assert token["preview"] == "glpa…"


def test_the_json_report_follows_its_published_schema(gitlab):
    from test_report_formats import findings_schema_validator

    result = scan(gitlab, "--group", "acme", "--include-subgroups")
    document = json.loads(result.stdout)
    findings_schema_validator().validate(document)
    assert document["scan"]["kind"] == "gitlab"
    assert {f["project_id"] for f in document["findings"] if "project" in f and f["path"].startswith("variables/")} >= {10}
    assert {f["namespace_id"] for f in document["findings"] if "group" in f} >= {1}


def test_subgroups_included_and_archived_skipped(gitlab):
    result = scan(gitlab, "--group", "acme", "--include-subgroups", "--skip-archived")
    assert result.returncode == 2, result.stderr  # acme/locked, acme/vanished, acme/expired
    owners = {f.get("project") or f.get("group") for f in findings(result)}
    assert {"acme/platform/core", "acme/platform"} <= owners  # subgroups' projects and variables
    assert "acme/legacy" not in owners
    assert_no_value(result)


def test_group_variables_the_token_may_not_read_are_a_warning_and_an_incomplete_scan(gitlab):
    gitlab.groups[0].variables_error = 403
    result = scan(gitlab, "--group", "acme")
    assert result.returncode == 2, result.stderr
    assert "radar: warning: group acme: variables skipped: access denied (403 Forbidden" in result.stderr.decode()
    assert "scan incomplete: 1 group and 3 projects could not be read" in result.stderr.decode()
    assert "acme/api" in {f.get("project") for f in findings(result)}


def test_listed_projects_with_a_rate_limit_retried(gitlab):
    gitlab.rate_limited_once.add("/api/v4/projects/13/variables")
    result = scan(gitlab, "--project", "acme/platform/core", "acme/vanished")
    assert result.returncode == 2, result.stderr  # acme/vanished could not be read
    assert [r for r in gitlab.requests if r.startswith("/api/v4/projects/13/variables")].__len__() == 2
    assert {f["rule_id"] for f in findings(result)} >= {"gitlab-personal-access-token", "gitlab-variable-unmasked"}
    assert "project acme/vanished: skipped" in result.stderr.decode()
    assert_no_value(result)


def test_instance_variables(gitlab):
    gitlab.instance_variables = [instance_variable("RELEASE_TOKEN", SUB_TOKEN, protected=True),
                                 instance_variable("SETTINGS", CI_TOKEN, masked=True), instance_variable("REGION", "eu")]
    result = scan(gitlab, "--instance")
    assert result.returncode == 1, result.stderr
    rules = {(f["rule_id"], f["key"]) for f in findings(result)}
    # Instance variables can be neither hidden nor scoped: no findings for those flags. SETTINGS does
    # not name a secret, but the detector suite found one in its value.
    assert rules == {("gitlab-personal-access-token", "RELEASE_TOKEN"), ("gitlab-variable-unmasked", "RELEASE_TOKEN"),
                     ("gitlab-personal-access-token", "SETTINGS"), ("gitlab-variable-unprotected", "SETTINGS")}
    assert all(f["path"].startswith("instance/variables/") for f in findings(result))
    assert_no_value(result)


def test_text_output_names_the_owner(gitlab):
    result = radar("scan", "gitlab", "--url", gitlab.url, "--project", "acme/api", env=ENV)
    assert result.returncode == 1
    assert "acme/api:variables/DEPLOY_TOKEN[*]:1:" in result.stdout.decode()
    assert "acme/api:.gitlab-ci.yml:5:" in result.stdout.decode()
    assert_no_value(result)


def test_on_a_terminal_a_table_and_the_progress_display_never_show_a_value(gitlab):
    from test_scan_cli import _run_on_terminal

    output = _run_on_terminal(["scan", "gitlab", "--url", gitlab.url, "--group", "acme"], {**ENV, "NO_COLOR": "1", "COLUMNS": "300"})
    assert b"gitlab-variable-duplicated" in output and b"Traceback" not in output
    assert_absent([value[:12] for value in (*VALUES, HIDDEN_SECRET)], output)


def test_clean_project_exits_0(gitlab):
    result = scan(gitlab, "--project", "partner/tools")
    assert result.returncode == 0, result.stderr
    assert findings(result) == []


def test_wrong_token_is_one_error_line(gitlab):
    result = scan(gitlab, "--group", "acme", env=clean_env(GITLAB_TOKEN="wrong"))
    assert result.returncode == 2
    assert "token was refused (401 Unauthorized)" in assert_one_line_error(result)


def test_missing_group_is_one_error_line(gitlab):
    result = scan(gitlab, "--group", "acme/nope")
    assert result.returncode == 2
    assert "group acme/nope: not found, or not visible to this token (404)" in assert_one_line_error(result)


def test_wrong_token_for_listed_projects(gitlab):
    result = scan(gitlab, "--project", "acme/api", env=clean_env(GITLAB_TOKEN="wrong"))
    assert result.returncode == 2
    assert "401 Unauthorized" in result.stderr.decode().splitlines()[-1]


def test_an_unreachable_server_is_one_error_line_without_the_long_retries():
    # Nothing listens on the discard port; python-gitlab alone would retry for ~100 s (the
    # subprocess bound of radar_cli.WAIT, 60 s, would then fail this test).
    result = radar("scan", "gitlab", "--url", "http://127.0.0.1:9", "--project", "acme/api", env=ENV)
    assert result.returncode == 2
    assert assert_one_line_error(result).rstrip("\n").endswith(
        "http://127.0.0.1:9: cannot reach GitLab (connection refused); check --url (or $CI_SERVER_URL) and the network")


def test_missing_token(gitlab):
    result = scan(gitlab, "--group", "acme", env=clean_env())
    assert result.returncode == 2
    assert "set GITLAB_TOKEN" in assert_one_line_error(result)


def test_job_token_and_server_url_inside_a_job(gitlab):
    env = clean_env(RADAR_FINGERPRINT_KEY="k", CI_SERVER_URL=gitlab.url, CI_JOB_TOKEN=TOKEN)
    result = radar("scan", "gitlab", "--project", "partner/tools", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr


def test_token_env_names_another_variable(gitlab):
    result = scan(gitlab, "--project", "partner/tools", "--token-env", "MY_TOKEN",
                  env=clean_env(RADAR_FINGERPRINT_KEY="k", MY_TOKEN=TOKEN))
    assert result.returncode == 0, result.stderr


def test_a_directory_named_gitlab_is_scanned_as_dot_slash_gitlab(tmp_path):
    (tmp_path / "gitlab").mkdir()
    (tmp_path / "gitlab" / ".env").write_text(f"API_TOKEN={SUB_TOKEN}\n")
    env = clean_env(RADAR_FINGERPRINT_KEY="k")
    result = radar("scan", tmp_path / "gitlab", "--format", "json", env=env)
    assert result.returncode == 1
    assert findings(result)[0]["path"] == ".env"
    result = radar("scan", "gitlab", "--format", "json", env=env)
    assert result.returncode == 2  # `gitlab` right after `scan` means the GitLab scan, which needs --group...


@pytest.mark.parametrize("line, rules", [
    ("  script: vault write auth/jwt/login jwt=$CI_JOB_JWT", {"gitlab-ci-job-jwt"}),
    ("  - echo ${CI_JOB_JWT_V2}", {"gitlab-ci-job-jwt"}),
    ("  VAULT_SKIP_VERIFY: 'true'", {"gitlab-ci-vault-skip-verify"}),
    ("  - export VAULT_SKIP_VERIFY=1", {"gitlab-ci-vault-skip-verify"}),
    ("  VAULT_SKIP_VERIFY: \"false\"", set()),
    ("# CI_JOB_JWT was replaced by id_tokens", set()),
    ("  - echo $CI_JOB_JWT_AUDIENCE_OF_MINE", set()),
])
def test_ci_file_rules(line, rules):
    from radar.scan.findings import FingerprintKey
    from radar.scan.gitlab_checks import ci_file_findings

    found = ci_file_findings(f"job:\n{line}\n", "acme/api", ".gitlab-ci.yml", FingerprintKey(b"k"))
    assert {f.rule_id for f in found} == rules
    assert all(f.line == 2 and f.origin.project == "acme/api" and f.remediation for f in found)


def test_a_large_group_is_scanned_in_one_process_unless_jobs_are_asked_for(gitlab, pool_starts):
    # The requests take the time, not the rules: workers would only copy the parent's records.
    from radar.scan import scanner
    from radar.scan.findings import FingerprintKey
    from radar.scan.gitlab_checks import scan_gitlab
    from radar.scan.sources.gitlab import Scope, connect

    filler = "".join(f"stage_{i}:\n  script: make step-{i}\n" for i in range(30_000))  # ~1 MB, harmless
    for project in gitlab.projects[:3]:
        project.files = {**project.files, ".gitlab-ci.yml": filler + CI_FILE}
    key = FingerprintKey(b"test-key")
    runs = {}
    for jobs in (0, 2):
        client = connect(gitlab.url, private_token=TOKEN)
        report = scan_gitlab(client, Scope(groups=("acme",)), scanner.ScanOptions(jobs=jobs), key)
        runs[jobs] = sorted((f.rule_id, f.origin.project or "", f.path, f.line, f.fingerprint) for f in report.findings)
    assert pool_starts == [2]  # only the run that asked for two workers started them
    assert runs[0] == runs[2] and len(runs[0]) > 10


class _Proxy(BaseHTTPRequestHandler):
    """A plain HTTP forward proxy: a request for an absolute URL is sent on to it, and answered
    with what came back; every URL asked for is recorded."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        target = urlsplit(self.path)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        connection.request("GET", target.path + (f"?{target.query}" if target.query else ""),
                           headers={k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"})
        answer = connection.getresponse()
        body = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        connection.close()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    server.daemon_threads = True
    _Proxy.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Proxy.seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_proxy_variables_are_followed_on_every_request_and_no_proxy_bypasses_it(gitlab, proxy):
    # radar reads the environment's proxy settings once per host rather than on every request:
    # every request of a scan still goes through the proxy, and NO_PROXY still bypasses it.
    address, seen = proxy
    direct = scan(gitlab, "--group", "acme")
    asked = len(gitlab.requests)
    gitlab.requests.clear()
    proxied = scan(gitlab, "--group", "acme", env={**ENV, "HTTP_PROXY": address})
    assert findings(proxied) == findings(direct) and proxied.returncode == direct.returncode == 2
    assert len(seen) == len(gitlab.requests) == asked > 20
    assert all(url.startswith(gitlab.url + "/api/v4/") for url in seen)
    seen.clear()
    bypassed = scan(gitlab, "--group", "acme", env={**ENV, "HTTP_PROXY": address, "NO_PROXY": "127.0.0.1"})
    assert findings(bypassed) == findings(direct)
    assert seen == []


def test_listings_ask_for_pages_of_100_as_gitlab_allows(gitlab_server):
    # GitLab's default page is 20 items: a project of 45 variables is one request at per_page=100
    # (three at the default), a group of 130 projects two.
    gitlab_server.groups = [Group(1, "big", [variable(f"GROUP_{i}", "x") for i in range(45)])]
    gitlab_server.projects = [Project(100 + i, f"big/p{i}", variables=[variable(f"V_{j}", "on") for j in range(45)])
                              for i in range(130)]
    result = scan(gitlab_server, "--group", "big")
    assert result.returncode == 0, result.stderr
    listings = [r for r in gitlab_server.requests if r.split("?")[0].endswith(("/variables", "/projects"))]
    assert sum("/projects/100/variables" in r for r in listings) == 1
    assert sum("/groups/1/variables" in r for r in listings) == 1
    assert sum("/groups/1/projects" in r for r in listings) == 2
    assert all("per_page=100" in r for r in listings)


def _without_times(result) -> dict:
    report = json.loads(result.stdout)
    for moment in ("started", "finished"):
        report["scan"].pop(moment)
    return report


def test_projects_read_side_by_side_give_the_report_of_one_at_a_time(gitlab):
    # Pages of 2, projects refused (401, 403, 404), an empty repository, a CI file elsewhere,
    # shared and archived projects, subgroups: read 1, 4 and 10 at a time, the same report,
    # warnings and exit status, from the same requests.
    runs = {}
    for connections in ("1", "4", "10"):
        gitlab.requests.clear()
        gitlab.most_in_flight = 0
        result = scan(gitlab, "--group", "acme", "--include-subgroups", "--connections", connections)
        runs[connections] = (_without_times(result), result.stderr, result.returncode, sorted(gitlab.requests))
        assert gitlab.most_in_flight <= int(connections) + 1  # + the listing, asked by the main thread
    assert runs["1"] == runs["4"] == runs["10"]
    assert runs["1"][2] == 2 and len(runs["1"][0]["findings"]) > 10


def test_projects_are_read_several_at_once_and_one_at_a_time_with_connections_1(gitlab_server):
    gitlab_server.latency = 0.02  # a GitLab some way off: the requests are what takes the time
    gitlab_server.groups = [Group(1, "far", [])]
    gitlab_server.projects = [Project(100 + i, f"far/p{i}", variables=[variable("V", "on")]) for i in range(12)]
    assert scan(gitlab_server, "--group", "far", "--connections", "1").returncode == 0
    assert gitlab_server.most_in_flight == 1
    gitlab_server.most_in_flight = 0
    assert scan(gitlab_server, "--group", "far").returncode == 0  # 4 by default
    assert gitlab_server.most_in_flight >= 3


@pytest.mark.parametrize("value, message", [
    ("11", "--connections 11: at most 10 (the connections radar keeps open to one GitLab)"),
    ("0", "argument --connections: must be at least 1"),
])
def test_connections_out_of_range_is_a_usage_error_before_any_request(gitlab, value, message):
    result = scan(gitlab, "--group", "acme", "--connections", value)
    assert result.returncode == 2 and result.stderr.startswith(b"usage: radar scan gitlab --url URL")
    assert b"[--connections N]" in result.stderr.splitlines()[0]
    assert result.stderr.endswith(f"\nradar scan gitlab: error: {message}\n".encode())
    assert gitlab.requests == []


def test_subgroups_variables_are_read_several_at_once_too(gitlab_server):
    gitlab_server.latency = 0.02
    gitlab_server.groups = [Group(1, "top", [])] + [
        Group(10 + i, f"top/team{i}", [variable(f"TEAM_{i}_TOKEN", SUB_TOKEN, masked=True)]) for i in range(10)]
    one = scan(gitlab_server, "--group", "top", "--include-subgroups", "--connections", "1")
    assert gitlab_server.most_in_flight == 1
    gitlab_server.most_in_flight = 0
    four = scan(gitlab_server, "--group", "top", "--include-subgroups")
    assert gitlab_server.most_in_flight >= 3
    assert _without_times(one) == _without_times(four) and one.returncode == four.returncode == 1
    assert {f["group"] for f in findings(four)} == {f"top/team{i}" for i in range(10)}


@pytest.fixture
def elsewhere(gitlab: FakeGitLab) -> Iterator[FakeGitLab]:
    """Another origin (another port of 127.0.0.1) that would answer the scan as GitLab does, with
    the same data and token: what reaches it is what a hostile answer had radar send away."""
    with serving(FakeGitLab(groups=gitlab.groups, projects=gitlab.projects, max_per_page=2)) as other:
        yield other


def refusal(gl: FakeGitLab, other: FakeGitLab) -> str:
    return (f"radar: error: {gl.url}: GitLab's answer sent radar to {other.url} (a redirect, or the link to a "
            "listing's next page); radar sends the GitLab token to the address given only: give --url as the "
            "address GitLab serves its API at\n")


@pytest.mark.parametrize("token", ["GITLAB_TOKEN", "CI_JOB_TOKEN"])
def test_a_redirect_to_another_origin_is_refused_before_the_token_is_sent(gitlab, elsewhere, token):
    # requests takes its own Authorization header off such a redirect, not PRIVATE-TOKEN or JOB-TOKEN.
    gitlab.redirect = elsewhere.url
    env = clean_env(RADAR_FINGERPRINT_KEY="k", **{token: TOKEN})
    result = scan(gitlab, "--group", "acme", env=env)
    assert result.returncode == 2 and result.stdout == b""
    assert assert_one_line_error(result) == refusal(gitlab, elsewhere)
    assert elsewhere.requests == []


def test_a_next_page_link_to_another_origin_is_refused_before_the_token_is_sent(gitlab, elsewhere):
    gitlab.next_link = f"{elsewhere.url}/next?page=2"
    result = scan(gitlab, "--group", "acme")
    assert result.returncode == 2 and result.stdout == b""
    assert assert_one_line_error(result) == refusal(gitlab, elsewhere)
    assert elsewhere.requests == []


def test_links_under_another_external_url_are_read_from_the_address_given(gitlab, elsewhere):
    # GitLab reached under another name than its external_url: every next-page link names that
    # one. The pages are read from --url, and the report is the one of links that name --url.
    expected = scan(gitlab, "--group", "acme", "--include-subgroups")
    asked = sorted(gitlab.requests)
    gitlab.requests.clear()
    gitlab.external_url = elsewhere.url
    result = scan(gitlab, "--group", "acme", "--include-subgroups")
    assert (_without_times(result), result.stderr, result.returncode) == (
        _without_times(expected), expected.stderr, expected.returncode)
    assert sorted(gitlab.requests) == asked and sum("page=2" in r for r in asked) >= 2
    assert elsewhere.requests == []


def test_project_repeated_reads_every_project_named(gitlab):
    # `--project A --project B` is `--project A B`, not B alone.
    repeated = scan(gitlab, "--project", "acme/api", "--project", "acme/web")
    listed = scan(gitlab, "--project", "acme/api", "acme/web")
    assert _without_times(repeated) == _without_times(listed)
    assert {f["project"] for f in findings(repeated)} == {"acme/api", "acme/web"}
