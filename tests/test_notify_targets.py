"""--notify's parser and the events built from real scans: targets are gitlab-issues or an http(s)
webhook, and an error never repeats what was given (it may be a webhook URL holding a token);
events carry the place, source, severity and remediation of directory, history and GitLab
findings, escaped, and no value."""

from __future__ import annotations

import argparse
import subprocess

import pytest
from hypothesis import given, strategies as st

from gitlab_fake import TOKEN, FakeGitLab, Group, Project, gitlab_server, variable  # noqa: F401
from notify_helpers import GITHUB, GITLAB, KEY, assert_no_value, planted_findings
from radar.notify.events import RESOLVED_REMEDIATION, events_from
from radar.notify.targets import add_arguments, parse_target
from radar.scan.scanner import ScanOptions

TOKENISH = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                   min_size=16, max_size=40)


@pytest.mark.parametrize("text, kind, shown", [
    ("gitlab-issues", "gitlab-issues", "gitlab-issues"),
    ("webhook=https://hooks.slack.com/services/T0/B0/abc", "webhook", "webhook https://hooks.slack.com"),
    ("webhook=http://127.0.0.1:8080/hook?x=1", "webhook", "webhook http://127.0.0.1:8080"),
    ("webhook=https://[::1]:9000/h", "webhook", "webhook https://[::1]:9000"),
])
def test_targets_that_parse(text, kind, shown):
    target = parse_target(text)
    assert (target.kind, target.shown) == (kind, shown)
    assert "services" not in repr(target) and "hook?" not in repr(target)


@pytest.mark.parametrize("text, says", [
    ("gitlab", "not a notification target; use gitlab-issues or webhook=https://HOST/PATH"),
    ("webhook", "not a notification target"),
    ("slack=https://h/x", "not a notification target"),
    ("webhook=ftp://h/x", "must start with https:// or http://"),
    ("webhook=https:///x", "must start with https:// or http:// and name a host"),
    ("webhook=https://h:99999/x", "host or port is not valid"),
    ("webhook=https://user:pass@h/x", "must not hold a user name or password"),
    ("webhook=https://h/a b", "spaces, control characters"),
    ("webhook=https://h/x#frag", "#fragment"),
])
def test_targets_refused_with_a_reason(text, says):
    with pytest.raises(argparse.ArgumentTypeError) as e:
        parse_target(text)
    assert says in str(e.value)


@given(st.sampled_from(["webhook=https://h/", "webhook=ftp://h/", "webhok=https://h/", "webhook=https://u:",
                        "webhook=https://h:x/", "webhook=", ""]), TOKENISH, st.text(max_size=10))
def test_an_error_never_repeats_the_target_given(prefix, token, tail):
    try:
        target = parse_target(prefix + token + tail)
    except argparse.ArgumentTypeError as e:
        assert token not in str(e)
    else:
        assert token not in target.shown and token not in repr(target)


def test_the_cli_options_parse_repeat_and_fail_like_argparse(capsys):
    parser = argparse.ArgumentParser(prog="radar monitor")
    add_arguments(parser)
    args = parser.parse_args(["--notify", "gitlab-issues", "--notify", "webhook=https://h/secret-path",
                              "--notify-label", "secrets", "--notify-project", "acme/sec"])
    assert [t.kind for t in args.notify] == ["gitlab-issues", "webhook"]
    assert (args.notify_label, args.notify_project, args.url, args.token_env) == ("secrets", "acme/sec", None,
                                                                                 "GITLAB_TOKEN")
    for bad in (["--notify", "webhook=ftp://h/secret-path"], ["--notify-label", "radar::x"], ["--notify-label", "a,b"]):
        with pytest.raises(SystemExit) as e:
            parser.parse_args(bad)
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "radar monitor: error: argument --notify" in err and "secret-path" not in err


def test_a_parser_that_has_the_gitlab_options_keeps_its_own():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--token-env", default="GITLAB_TOKEN")
    add_arguments(parser, gitlab_options=False)
    assert parser.parse_args(["--url", "u", "--notify", "gitlab-issues"]).url == "u"


# --- events from real scans ---------------------------------------------------------------------

def test_directory_findings_become_new_events_and_state_entries_resolved_ones(tmp_path):
    findings = planted_findings(tmp_path)
    events = events_from(findings, [("github-personal-access-token", "ef" * 32, "GitHub token", "old/.env")])
    assert [(e.kind, e.rule_id, e.place, e.source, e.severity) for e in events] == [
        ("new", "gitlab-personal-access-token", "app/.env:1", "directory", "critical"),
        ("new", "github-personal-access-token", "app/.env:2", "directory", "critical"),
        ("resolved", "github-personal-access-token", "old/.env", "directory", "critical"),
    ]
    assert events[0].fingerprint == findings[0].fingerprint
    assert events[0].remediation.startswith("Rotate the credential at its provider")
    assert events[2].remediation == RESOLVED_REMEDIATION
    for event in events:
        assert_no_value(repr(event), "an event")


def test_a_hostile_file_name_is_escaped_in_the_place(tmp_path):
    [gitlab, _] = planted_findings(tmp_path, name="x\n@all\x1b[2J.env")
    [event] = events_from([gitlab], [])
    assert event.place == "app/x\\n@all\\x1b[2J.env:1"
    [gone] = events_from([], [("r", "f", "t\u202e", "variables/KEY\n[*]")])
    assert (gone.place, gone.secret_type, gone.source, gone.severity) == ("variables/KEY\\n[*]", "t\\u202e", "gitlab",
                                                                          "unknown")


def test_history_findings_name_the_commit(tmp_path):
    from radar.scan.history import scan_history
    from radar.scan.sources.git import RefSelection

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                       env={"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "a",
                            "GIT_COMMITTER_EMAIL": "a@example.com", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})

    git("init", "-q", "-b", "main")
    (tmp_path / "deploy.sh").write_text(f"export GITLAB_TOKEN={GITLAB}\n")
    git("add", "deploy.sh")
    git("commit", "-qm", "add deploy")
    (tmp_path / "deploy.sh").write_text("export GITLAB_TOKEN=$CI_SECRET\n")
    git("commit", "-qam", "remove it")
    report = scan_history(tmp_path, RefSelection(False, None, None), ScanOptions(jobs=1), KEY)
    [event] = events_from([f for f in report.findings if not f.ignored], [])
    commit = report.findings[0].origin.commit
    assert (event.source, event.place) == ("history", f"deploy.sh:1 (commit {commit[:12]})")
    assert "history" in event.remediation  # the remedy for a value only in history: rotate, then rewrite
    assert_no_value(repr(event), "a history event")


def test_gitlab_variable_findings_name_owner_key_and_scope(gitlab_server):
    from radar.scan.gitlab_checks import scan_gitlab
    from radar.scan.sources.gitlab import Scope, connect

    gitlab_server.groups = [Group(1, "acme")]
    gitlab_server.projects = [Project(2, "acme/app", variables=[
        variable("DEPLOY_TOKEN", GITHUB, environment_scope="production", masked=True, protected=True)])]
    report = scan_gitlab(connect(gitlab_server.url, private_token=TOKEN), Scope(groups=("acme",)),
                         ScanOptions(jobs=1), KEY)
    events = events_from([f for f in report.findings if not f.ignored], [])
    places = {(e.rule_id, e.place, e.source) for e in events}
    assert ("github-personal-access-token", "acme/app:DEPLOY_TOKEN [production]", "gitlab") in places
    assert all(e.remediation for e in events)
    for event in events:
        assert_no_value(repr(event), "a GitLab event")
