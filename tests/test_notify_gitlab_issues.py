"""`--notify gitlab-issues` against the fake GitLab: one issue per finding across monitoring runs
(created, noted, closed, reopened, never duplicated), no value in anything written, and every
failure (a Guest's token, a missing project, an unreachable or hostile GitLab, the cap) a warning
that names what to fix, never an exception."""

from __future__ import annotations

import argparse
import json

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from gitlab_fake import TOKEN, FakeGitLab, Project, gitlab_server, serving  # noqa: F401
from notify_helpers import KEY, assert_no_value, planted_findings
from radar.errors import RadarError
from radar.notify import gitlab_issues
from radar.notify.events import Event, events_from
from radar.notify.send import send
from radar.notify.targets import GITLAB_ISSUES, NotifySettings, Target, add_arguments, settings_from
from radar.notify.text import marker_label
from radar.scan.findings import Finding
from vault_fakes import ScriptedServer, answer, response, stream

ISSUES = (Target(GITLAB_ISSUES),)
# A finding as a scan reports it, for the tests that need no tree of their own.
FOUND = (Finding(rule_id="github-personal-access-token", secret_type="GitHub token", description="GitHub token",
                 severity="critical", confidence="high", path="app/.env", line=2, column=14, end_line=2,
                 end_column=53, fingerprint=KEY.fingerprint("not a planted value"), preview="[redacted]"),)


@pytest.fixture
def gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    gitlab_server.projects = [Project(7, "acme/security")]
    return gitlab_server


def settings(gl: FakeGitLab, **changes) -> NotifySettings:
    return NotifySettings(**{"gitlab_url": gl.url, "token": TOKEN, "project": "acme/security",
                             "subject": "acme/app", **changes})


def resolved(event: Event, path: str = "app/.env") -> tuple[str, str, str, str]:
    return (event.rule_id, event.fingerprint, event.secret_type, path)


def assert_nothing_written_holds_a_value(project: Project) -> None:
    for issue in project.issues:
        assert_no_value(json.dumps(issue), f"issue {issue['iid']}")
        for note in project.notes.get(issue["iid"], []):
            assert_no_value(note["body"], f"a note on issue {issue['iid']}")


def test_runs_create_then_note_then_close_then_reopen_one_issue_per_finding(tmp_path, gitlab):
    project = gitlab.projects[0]
    new = events_from(planted_findings(tmp_path), [])

    first = send(ISSUES, new, settings(gitlab))
    assert (first.created, first.updated, first.closed, first.warnings) == (2, 0, 0, ())
    assert [(i["state"], i["labels"]) for i in project.issues] == [
        ("opened", ["radar", marker_label(new[0])]), ("opened", ["radar", marker_label(new[1])])]
    assert project.issues[0]["title"] == "radar: GitLab access token in `app/.env:1`"
    description = project.issues[0]["description"]
    assert "`app/.env:1`" in description and "`gitlab-personal-access-token`" in description
    assert "critical" in description and "Rotate the credential at its provider" in description

    second = send(ISSUES, new, settings(gitlab))  # the same findings again: no duplicate, a note each
    assert (second.created, second.updated, second.closed) == (0, 2, 0)
    assert len(project.issues) == 2
    assert [len(project.notes[i]) for i in (1, 2)] == [1, 1]
    assert project.notes[1][0]["body"] == "radar still finds this credential, at `app/.env:1`."

    third = send(ISSUES, events_from([], [resolved(new[0])]), settings(gitlab))
    assert (third.created, third.updated, third.closed) == (0, 0, 1)
    assert [i["state"] for i in project.issues] == ["closed", "opened"]
    assert project.notes[1][-1]["body"].startswith("radar no longer finds this credential at `app/.env`: closing.")

    again = send(ISSUES, events_from([], [resolved(new[0])]), settings(gitlab))  # already closed: nothing to do
    assert (again.closed, again.updated, len(project.notes[1])) == (0, 0, 2)

    fourth = send(ISSUES, new[:1], settings(gitlab))  # back again: the same issue, reopened
    assert (fourth.created, fourth.updated) == (0, 1)
    assert [i["state"] for i in project.issues] == ["opened", "opened"]
    assert project.notes[1][-1]["body"].startswith("radar finds this credential again, at `app/.env:1`: reopened.")
    assert len(project.issues) == 2
    assert_nothing_written_holds_a_value(project)


def test_the_issues_carry_the_label_chosen_and_a_numeric_project_id_works(tmp_path, gitlab):
    new = events_from(planted_findings(tmp_path), [])
    outcome = send(ISSUES, new, settings(gitlab, project="7", label="secrets"))
    assert outcome.created == 2
    assert {"secrets"} <= set(gitlab.projects[0].issues[0]["labels"]) and gitlab.projects[0].labels >= {"secrets"}


def test_the_same_value_found_by_two_rules_gets_two_issues(tmp_path, gitlab):
    # Same fingerprint, so the same marker label: the hidden marker line tells the issues apart.
    event = events_from(planted_findings(tmp_path), [])[0]
    other = Event(**{**event.as_dict(), "rule_id": "generic-api-key"})  # type: ignore[arg-type]
    assert marker_label(other) == marker_label(event)
    send(ISSUES, (event,), settings(gitlab))
    assert send(ISSUES, (other,), settings(gitlab)).created == 1
    assert send(ISSUES, (event, other), settings(gitlab)).updated == 2
    assert len(gitlab.projects[0].issues) == 2


def test_an_issue_past_the_first_page_of_its_label_is_found(tmp_path, gitlab):
    event = events_from(planted_findings(tmp_path), [])[0]
    send(ISSUES, (event,), settings(gitlab))
    project = gitlab.projects[0]
    for n in range(30):  # newer issues under the same marker label (a hand-made copy, say), listed first
        project.issues.append({**project.issues[0], "iid": n + 2, "id": 10**6 + n, "state": "closed",
                               "description": "copied by hand, without the marker line"})
    outcome = send(ISSUES, (event,), settings(gitlab))
    assert (outcome.created, outcome.updated) == (0, 1)
    assert len(project.notes[1]) == 1
    assert any("page=2" in r for r in gitlab.requests)


def test_at_most_max_issues_are_written_a_run_most_severe_first_and_the_rest_counted(tmp_path, gitlab):
    found = events_from(planted_findings(tmp_path), [])
    low = [Event(**{**found[0].as_dict(), "fingerprint": f"{n:064x}", "severity": "low"})  # type: ignore[arg-type]
           for n in range(3)]
    outcome = send(ISSUES, (*low, *found), settings(gitlab, max_issues=2))
    assert (outcome.created, outcome.undelivered) == (2, 3)
    assert [i["labels"][1] for i in gitlab.projects[0].issues] == [marker_label(e) for e in found]
    assert outcome.warnings == ("gitlab-issues: 3 more finding(s) not told: at most 2 issues are written a run "
                                "(--notify-max-issues)",)
    assert outcome.exit_status(0) == 2 and outcome.exit_status(1) == 1


@pytest.mark.parametrize("status, says", [
    (403, "access denied (403 Forbidden; issues need a token with the api scope and at least the Reporter role "
          "on acme/security)"),
    (404, "project acme/security not found, not visible to this token, or its issues are turned off (404)"),
])
def test_a_project_that_refuses_issues_is_one_warning_and_no_exception(tmp_path, gitlab, status, says):
    gitlab.projects[0].issues_error = status
    outcome = send(ISSUES, events_from(planted_findings(tmp_path), []), settings(gitlab))
    assert outcome.warnings == (f"gitlab-issues: {says}; 2 finding(s) not told",)
    assert (outcome.created, outcome.undelivered) == (0, 2)
    assert len([r for r in gitlab.requests if "/issues" in r]) == 1  # stopped at the first refusal
    assert outcome.exit_status(0) == 2


def test_a_refused_token_is_one_warning(tmp_path, gitlab):
    outcome = send(ISSUES, events_from(planted_findings(tmp_path), []), settings(gitlab, token="wrong"))
    assert outcome.warnings == ("gitlab-issues: the token was refused (401 Unauthorized); 2 finding(s) not told",)


def test_a_redirect_to_another_origin_is_one_warning_and_nothing_reaches_it(tmp_path, gitlab):
    # The token stays with the address given: a redirect elsewhere (a GET's or a POST's) is
    # refused before the request is sent there.
    with serving(FakeGitLab(projects=[Project(7, "acme/security")])) as elsewhere:
        gitlab.redirect = elsewhere.url
        outcome = send(ISSUES, events_from(planted_findings(tmp_path), []), settings(gitlab))
    assert outcome.warnings == (
        f"gitlab-issues: {gitlab.url}: GitLab's answer sent radar to {elsewhere.url} (a redirect, or the link to a "
        "listing's next page); radar sends the GitLab token to the address given only: give --url as the address "
        "GitLab serves its API at; 2 finding(s) not told",)
    assert (outcome.created, outcome.undelivered) == (0, 2)
    assert elsewhere.requests == elsewhere.writes == [] and elsewhere.projects[0].issues == []


def test_an_unreachable_gitlab_is_one_warning(tmp_path):
    server = ScriptedServer(answer(200))
    url = server.url
    server.close()  # nothing listens there any more
    outcome = send(ISSUES, events_from(planted_findings(tmp_path), []),
                   NotifySettings(gitlab_url=url, token=TOKEN, project="acme/security"))
    assert len(outcome.warnings) == 1 and outcome.undelivered == 2
    assert outcome.warnings[0].startswith(f"gitlab-issues: {url}: cannot reach GitLab (connection refused)")


def gitlab_answering(behaviour) -> ScriptedServer:
    """A server that says it is GitLab (its /version) and answers everything else with `behaviour`."""
    def behave(server, conn, request) -> bool:
        if request.target.startswith("/api/v4/version"):
            conn.sendall(response(200, b'{"version": "17.5.0", "revision": "0"}'))
            return True
        return behaviour(server, conn, request)
    return ScriptedServer(behave)


@pytest.mark.parametrize("body, says", [
    (b"<html>a proxy's login page</html>", "GitLab's answer is not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "GitLab's answer is not JSON"),
    (b'{"iid": 1}', "GitLab's issue list is not a list"),
])
def test_a_hostile_or_broken_answer_is_a_warning_per_finding(tmp_path, body, says):
    server = gitlab_answering(answer(200, body))
    try:
        outcome = send(ISSUES, events_from(planted_findings(tmp_path), []),
                       NotifySettings(gitlab_url=server.url, token=TOKEN, project="acme/security"))
    finally:
        server.close()
    assert outcome.warnings == tuple(f"gitlab-issues: {says}; the issue for app/.env:{n} was not updated"
                                     for n in (1, 2))
    assert not [r for r in server.requests if r.method != "GET"]  # nothing was written on a broken answer


def test_an_answer_larger_than_the_cap_is_refused_unread(tmp_path):
    total = 64 * gitlab_issues.MAX_ANSWER_BYTES
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
    server = gitlab_answering(stream(head.encode(), total))
    try:
        outcome = send(ISSUES, events_from(planted_findings(tmp_path), [])[:1],
                       NotifySettings(gitlab_url=server.url, token=TOKEN, project="acme/security"))
    finally:
        server.close()
    assert outcome.warnings == ("gitlab-issues: GitLab's answer is larger than 4 MiB; the issue for app/.env:1 "
                                "was not updated",)
    assert server.bytes_sent < total // 2


def test_every_issue_listed_is_checked_for_its_fields_types(tmp_path, gitlab):
    # Items without an integer iid or a known state are not issues radar can act on: a new one is made.
    event = events_from(planted_findings(tmp_path), [])[0]
    send(ISSUES, (event,), settings(gitlab))
    gitlab.projects[0].issues[0].update(state="locked")
    assert send(ISSUES, (event,), settings(gitlab)).created == 1


# --- the settings, checked before a scan starts -------------------------------------------------

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="radar monitor")
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_settings_come_from_the_job_environment():
    environ = {"CI_SERVER_URL": "https://gitlab.example.com", "GITLAB_TOKEN": "t", "CI_PROJECT_ID": "42"}
    got = settings_from(parse("--notify", "gitlab-issues"), environ, subject="acme/app")
    assert got == NotifySettings(gitlab_url="https://gitlab.example.com", token="t", project="42", subject="acme/app")
    assert "token" not in repr(got)  # the token is no field of the repr


def test_a_job_token_alone_is_refused_with_the_reason_and_the_fix():
    environ = {"CI_SERVER_URL": "https://gitlab.example.com", "CI_JOB_TOKEN": "job", "CI_PROJECT_ID": "42"}
    with pytest.raises(RadarError) as e:
        settings_from(parse("--notify", "gitlab-issues"), environ)
    assert str(e.value) == ("--notify gitlab-issues needs an access token in $GITLAB_TOKEN: the CI job token cannot "
                            "create, edit or close issues; use a project access token with the api scope and at "
                            "least the Reporter role (a masked CI/CD variable)")


@pytest.mark.parametrize("argv, environ, says", [
    (("--notify", "gitlab-issues"), {"GITLAB_TOKEN": "t", "CI_PROJECT_ID": "1"}, "needs GitLab's address"),
    (("--notify", "gitlab-issues"), {"CI_SERVER_URL": "https://g", "CI_PROJECT_ID": "1"}, "set GITLAB_TOKEN"),
    (("--notify", "gitlab-issues", "--token-env", "MY_TOKEN"), {"CI_SERVER_URL": "https://g", "GITLAB_TOKEN": "t",
                                                                "CI_PROJECT_ID": "1"}, "set MY_TOKEN"),
    (("--notify", "gitlab-issues"), {"CI_SERVER_URL": "https://g", "GITLAB_TOKEN": "t"}, "--notify-project ID|PATH"),
    (("--notify", "webhook=https://h/x", "--notify-project", "a/b"), {}, "--notify-project applies to --notify "
                                                                         "gitlab-issues only"),
])
def test_missing_settings_are_one_clear_error(argv, environ, says):
    with pytest.raises(RadarError, match=None) as e:
        settings_from(parse(*argv), environ)
    assert says in str(e.value)


# --- cost and hostile answers ---------------------------------------------------------------------

def test_each_finding_costs_one_lookup_and_at_most_two_writes(tmp_path, gitlab):
    new = events_from(planted_findings(tmp_path), [])
    send(ISSUES, new, settings(gitlab))
    send(ISSUES, events_from([], [resolved(e) for e in new]), settings(gitlab))
    lookups = [r for r in gitlab.requests if r.startswith("/api/v4/projects/acme%2Fsecurity/issues?")]
    assert len(lookups) == 4  # one per event per run, however many issues the project has
    assert [method for method, _ in gitlab.writes] == ["POST", "POST", "POST", "PUT", "POST", "PUT"]


def test_a_rate_limited_lookup_is_retried_after_retry_after(tmp_path, gitlab):
    gitlab.rate_limited_once.add("/api/v4/projects/acme%2Fsecurity/issues")
    outcome = send(ISSUES, events_from(planted_findings(tmp_path), [])[:1], settings(gitlab))
    assert (outcome.created, outcome.warnings) == (1, ())


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["iid", "state", "description", "labels", "id"]), inner, max_size=5),
                    max_leaves=20)


@hypothesis_settings(max_examples=60, deadline=None)
@given(answer_json=JSON, status=st.sampled_from([200, 201, 400, 409, 422]))
def test_any_answer_gitlab_gives_is_handled_without_an_exception(answer_json, status):
    # The server gives this answer to every lookup and every write.
    body = json.dumps(answer_json).encode()
    server = gitlab_answering(answer(status, body))
    try:
        outcome = gitlab_issues.sync(events_from(FOUND, []), NotifySettings(
            gitlab_url=server.url, token=TOKEN, project="acme/security", timeout=5))
    finally:
        server.close()
    assert outcome.created + outcome.updated + outcome.closed + outcome.undelivered <= len(FOUND)
    assert all(w.startswith("gitlab-issues: ") and "\n" not in w for w in outcome.warnings)


def test_a_gitlab_failing_with_500_is_retried_a_few_times_then_one_warning(tmp_path, gitlab):
    gitlab.projects[0].issues_error = 500
    outcome = send(ISSUES, events_from(planted_findings(tmp_path), []), settings(gitlab))
    assert outcome.warnings == ("gitlab-issues: GitLab answered 500; 2 finding(s) not told",)
    lookups = [r for r in gitlab.requests if "/issues" in r]
    assert len(lookups) == 1 + gitlab_issues.RETRIES  # python-gitlab's retries, bounded, and then no more


def test_an_issue_deleted_between_lookup_and_note_is_a_warning_for_that_finding_only(tmp_path, gitlab, monkeypatch):
    new = events_from(planted_findings(tmp_path), [])
    send(ISSUES, new, settings(gitlab))
    project = gitlab.projects[0]
    find = gitlab_issues._Issues.find

    def find_then_someone_deletes_it(self, event):  # a maintainer deletes the issue in between
        issue = find(self, event)
        if event is new[0]:
            project.issues.remove(next(i for i in project.issues if i["iid"] == issue["iid"]))
        return issue

    monkeypatch.setattr(gitlab_issues._Issues, "find", find_then_someone_deletes_it)
    outcome = send(ISSUES, new, settings(gitlab))
    assert outcome.warnings == ("gitlab-issues: the issue is gone (404); the issue for app/.env:1 was not updated",)
    assert outcome.updated == 1  # the other finding's issue was still noted
