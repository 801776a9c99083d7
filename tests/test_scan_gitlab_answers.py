"""GitLab's answers may be hostile or broken: `radar scan gitlab` checks each against the shape the
REST API documents (`radar.scan.sources.gitlab_answers`) and meets a malformed one as it meets any
answer it cannot read: a project or group skipped with a warning and the scan incomplete (exit
2), or one error line when the scope itself cannot be read; never an internal error."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gitlab_fake import TOKEN, FakeGitLab, Group, Project, gitlab_server, variable  # noqa: F401
from radar.scan.findings import FingerprintKey
from radar.scan.sources import gitlab_answers as answers
from radar.scan.sources.gitlab import MAX_ANSWER_BYTES, GitLabError, GitLabSource, Scope, connect
from radar.scan.sources.gitlab_answers import MalformedAnswer
from radar_cli import assert_one_line_error, clean_env, radar
from vault_fakes import ScriptedServer, response, stream

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key", GITLAB_TOKEN=TOKEN)
GOOD = "glpat-" + "Qk3vX9pL2mR7tW4zN8bY"
KEY = FingerprintKey(b"test-key")

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
# Objects shaped like GitLab's, with any field of them of any JSON type, or missing.
FIELDS = ("key", "value", "environment_scope", "variable_type", "protected", "masked", "hidden", "id",
          "full_path", "path_with_namespace", "default_branch", "ci_config_path")
SHAPED = st.dictionaries(st.sampled_from(FIELDS), JSON | st.text(max_size=12), max_size=len(FIELDS))


@pytest.fixture
def gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    gitlab_server.groups = [Group(1, "acme", [variable("GROUP_TOKEN", GOOD)])]
    gitlab_server.projects = [Project(10, "acme/api", variables=[variable("DEPLOY_TOKEN", GOOD)]),
                              Project(11, "acme/web", variables=[variable("WEB_TOKEN", GOOD)])]
    return gitlab_server


def scan(gl: FakeGitLab, *args: str):
    return radar("scan", "gitlab", "--url", gl.url, *args, "--format", "json", env=ENV)


MALFORMED = [
    (b'{"key": "A", "value": "x"}', "GitLab's answer is not a list of variables"),
    (b'"abc"', "GitLab's answer is not a list of variables"),
    (b"null", "GitLab's answer is not a list of variables"),
    (b"[[1, 2]]", "GitLab's answer is not a list of variables"),
    (b'[{"value": "x"}]', "GitLab's answer is not a variable: its key is not a text"),
    (b'[{"key": 5, "value": "x"}]', "GitLab's answer is not a variable: its key is not a text"),
    (b'[{"key": "A", "value": 12345}]', "GitLab's answer is not a variable: its value is not a text"),
    (b'[{"key": "A", "value": "x", "environment_scope": []}]',
     "GitLab's answer is not a variable: its environment_scope is not a text"),
    (b'[{"key": "A", "value": "x", "protected": "false"}]',
     "GitLab's answer is not a variable: its protected is not true or false"),
    (b"[" * 50_000 + b"]" * 50_000, "Failed to parse the server message"),
    (b"<html>a proxy's login page</html>", "Failed to parse the server message"),
]


# Whose variables are answered malformed: the path asked, the warning's start, what is counted
# unread, and the owners whose findings are still reported.
OWNERS = {
    "project": ("/api/v4/projects/10/variables", "project acme/api: skipped", "1 project", {"acme", "acme/web"}),
    "group": ("/api/v4/groups/1/variables", "group acme: variables skipped", "1 group", {"acme/api", "acme/web"}),
}


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("body, says", MALFORMED)
def test_malformed_variables_skip_their_owner_with_a_warning(gitlab, owner, body, says):
    path, skipped, unread, reported = OWNERS[owner]
    gitlab.answers[path] = body
    result = scan(gitlab, "--group", "acme")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"radar: warning: {skipped}: {says}",
        f"radar: error: scan incomplete: {unread} could not be read (each named in a warning above)"]
    assert {f.get("project") or f.get("group") for f in json.loads(result.stdout)["findings"]} == reported


@pytest.mark.parametrize("path, body, says", [
    ("/api/v4/groups/acme", b"[]", "group acme: GitLab's answer is not a group"),
    ("/api/v4/groups/acme", b'{"id": "1", "full_path": "acme"}',
     "group acme: GitLab's answer is not a group: its id is not a positive number"),
    ("/api/v4/groups/acme", b'{"id": true, "full_path": "acme"}',
     "group acme: GitLab's answer is not a group: its id is not a positive number"),
    ("/api/v4/groups/1/projects", b'{"id": 10}', "{url}: GitLab's answer is not a list of projects"),
    ("/api/v4/groups/1/projects", b'[{"id": 10, "path_with_namespace": ["acme", "api"]}]',
     "{url}: GitLab's answer is not a project: its path_with_namespace is not a text"),
    ("/api/v4/groups/1/projects", b'[{"id": "10/../../admin", "path_with_namespace": "acme/api"}]',
     "{url}: GitLab's answer is not a project: its id is not a positive number"),
])
def test_a_scope_gitlab_answers_malformed_is_one_error_line(gitlab, path, body, says):
    gitlab.answers[path] = body
    result = scan(gitlab, "--group", "acme")
    assert result.returncode == 2 and result.stdout == b""
    assert assert_one_line_error(result) == f"radar: error: {says.format(url=gitlab.url)}\n"


def test_a_listed_project_gitlab_answers_malformed_is_a_warning(gitlab):
    gitlab.answers["/api/v4/projects/acme%2Fweb"] = b'{"id": 11, "path_with_namespace": "acme/web", "default_branch": 3}'
    result = scan(gitlab, "--project", "acme/api", "--project", "acme/web")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[0] == (
        "radar: warning: project acme/web: skipped: GitLab's answer is not a project: its default_branch is not a text")
    assert {f.get("project") for f in json.loads(result.stdout)["findings"]} == {"acme/api"}


def test_pages_that_link_on_without_end_stop_the_listing(gitlab):
    # Every page links to the first again: empty pages (python-gitlab asks for each next page from
    # inside the last one's iteration), and pages of variables (kept whole: bounded by a limit).
    gitlab.projects[0].variables = []
    gitlab.next_link = f"{gitlab.url}/api/v4/projects/10/variables?page=1"
    result = scan(gitlab, "--project", "acme/api")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[0] == (
        "radar: warning: project acme/api: skipped: GitLab's listing of variables runs on through empty pages")
    assert len(gitlab.requests) < 2_000


def test_a_listing_past_its_limit_stops_with_a_malformed_answer(monkeypatch):
    pages = ({"key": f"K{i}"} for i in range(10**9))  # endless, as pages linking on without end are
    listed = answers.listing(pages, "variables", limit=1_000)
    assert sum(1 for _ in zip(range(1_000), listed)) == 1_000
    with pytest.raises(MalformedAnswer, match="^GitLab's listing of variables holds more than 1,000 of them$"):
        next(listed)


@settings(max_examples=300, deadline=None)
@given(value=JSON | SHAPED)
def test_every_answer_is_a_record_of_the_documented_types_or_a_malformed_answer(value):
    for check, fields in ((answers.variable, {"key": str, "value": (str, type(None)), "environment_scope": str,
                                             "variable_type": str, "protected": bool, "masked": bool,
                                             "hidden": (bool, type(None))}),
                          (answers.project, {"path": str, "id": int, "default_branch": (str, type(None)),
                                             "ci_config_path": (str, type(None))}),
                          (answers.group, {"full_path": str, "id": int})):
        try:
            record = check(value)
        except MalformedAnswer:
            continue
        for name, kind in fields.items():
            assert isinstance(getattr(record, name), kind), (check.__name__, name)
        if hasattr(record, "id"):
            assert type(record.id) is int and record.id > 0


# The server is started once; every example sets all of its data afresh.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=(JSON | st.lists(SHAPED, max_size=3)).map(lambda v: json.dumps(v).encode()) | st.binary(max_size=40),
       where=st.sampled_from(["/api/v4/projects/10/variables", "/api/v4/groups/1/variables",
                              "/api/v4/groups/1/projects", "/api/v4/groups/acme", "/api/v4/projects/10/repository"
                              "/files/.gitlab-ci.yml/raw"]))
def test_any_answer_ends_the_scan_with_its_units_or_a_gitlab_error(gitlab_server, body, where):
    # In-process, against the fake with one answer replaced: the source yields units and records
    # warnings, or raises GitLabError (one error line in the CLI); no other exception.
    gitlab_server.groups = [Group(1, "acme", [variable("GROUP_TOKEN", GOOD)])]
    gitlab_server.projects = [Project(10, "acme/api", variables=[variable("DEPLOY_TOKEN", GOOD)],
                                      files={".gitlab-ci.yml": "test:\n  script: make\n"})]
    gitlab_server.answers = {where: body}
    source = GitLabSource(connect(gitlab_server.url, private_token=TOKEN), Scope(groups=("acme",)), KEY,
                          connections=2)
    try:
        units = list(source.units())
    except GitLabError:
        return
    assert all(unit.path for unit in units)
    assert all(record.fingerprint is None or len(record.fingerprint) == 64 for record in source.variables)


@pytest.mark.parametrize("length", ["content-length", "chunked"])
def test_an_answer_without_end_is_read_no_further_than_the_cap(length):
    # A GitLab (or what sits before it) that answers a project's look-up with 4 GiB: the project
    # is skipped once MAX_ANSWER_BYTES have been read, and radar stops reading there.
    total = 4 * 2**30
    head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + (f"Content-Length: {total}\r\n" if length == "content-length" else "") + "\r\n").encode()
    endless = stream(head, total)

    def behave(server, conn, request) -> bool:
        if request.target.startswith("/api/v4/version"):  # it says it is GitLab
            conn.sendall(response(200, b'{"version": "17.5.0"}'))
            return True
        return endless(server, conn, request)

    server = ScriptedServer(behave)
    try:
        result = radar("scan", "gitlab", "--url", server.url, "--project", "acme/api", "--format", "json", env=ENV)
    finally:
        server.close()
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"radar: warning: project acme/api: skipped: GitLab's answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB",
        "radar: error: scan incomplete: 1 project could not be read (each named in a warning above)"]
    assert MAX_ANSWER_BYTES < server.bytes_sent < total // 4
