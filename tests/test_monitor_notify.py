"""`radar monitor --notify`: the notifications of a real monitoring run, across runs, against a
webhook listener on 127.0.0.1 and the fake GitLab's issues: told once per change, nothing when
nothing changed, no value in anything sent, and a target that fails turns a passing run into 2."""

from __future__ import annotations

import json

import pytest

from gitlab_fake import TOKEN, FakeGitLab, Project, gitlab_server  # noqa: F401
from radar_cli import assert_one_line_error, clean_env
from test_monitor_cli import ENV, PLANTED, Repo, monitor
from vault_fakes import ScriptedServer, answer

HOOK_PATH = "/hooks/not-a-real-webhook-token"


def assert_nothing_sent_holds_a_value(data: bytes | str, where: str) -> None:
    text = data.encode() if isinstance(data, str) else data
    for n, secret in enumerate(PLANTED):
        if secret.encode() in text:
            pytest.fail(f"planted secret #{n} appeared in {where}", pytrace=False)


@pytest.fixture
def repo(tmp_path) -> Repo:
    from test_monitor_cli import GITHUB, GITLAB

    r = Repo(tmp_path / "repo")
    r.write(".env", f"GITLAB_TOKEN={GITLAB}\n")
    r.write("app/config.py", f"GITHUB_TOKEN = \"{GITHUB}\"\n")
    r.commit("configuration")
    return r


@pytest.fixture
def hook():
    servers: list[ScriptedServer] = []

    def start(status: int = 200) -> ScriptedServer:
        server = ScriptedServer(answer(status, b"ok"))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def bodies(server: ScriptedServer) -> list[dict]:
    for request in server.requests:
        assert_nothing_sent_holds_a_value(request.body, "the webhook's body")
    return [json.loads(request.body) for request in server.requests]


def test_a_webhook_hears_of_new_findings_then_nothing_then_the_resolved_one(repo, tmp_path, hook):
    server = hook()
    state = tmp_path / "state.toml"
    target = f"webhook={server.url}{HOOK_PATH}"

    first = monitor(state, "--notify", target, repo.path)
    assert first.returncode == 1, first.stderr
    [summary] = bodies(server)
    assert sorted(e["place"] for e in summary["new"]) == [".env:1", "app/config.py:1"]
    assert summary["resolved"] == [] and summary["text"].startswith("radar: 2 new, 0 resolved in ")

    second = monitor(state, "--notify", target, repo.path)  # nothing changed: nobody is told
    assert second.returncode == 0, second.stderr
    assert len(server.requests) == 1

    (repo.path / ".env").unlink()
    repo.commit("the token goes to Vault")
    third = monitor(state, "--notify", target, repo.path)
    assert third.returncode == 0, third.stderr
    resolved = bodies(server)[1]
    assert resolved["new"] == [] and [e["rule_id"] for e in resolved["resolved"]] == ["gitlab-personal-access-token"]
    assert "notified: 0 issue(s) opened, 0 updated, 0 closed, 1 webhook(s) posted" in third.stderr.decode()


def test_a_webhook_that_refuses_makes_a_passing_run_exit_2_and_the_state_still_moves(repo, tmp_path, hook):
    state = tmp_path / "state.toml"
    assert monitor(state, repo.path).returncode == 1  # the first run, told to nobody
    (repo.path / ".env").unlink()
    repo.commit("the token goes to Vault")
    server = hook(500)
    result = monitor(state, "--notify", f"webhook={server.url}{HOOK_PATH}", repo.path)
    assert result.returncode == 2, result.stderr
    stderr = result.stderr.decode()
    assert "radar: warning: " in stderr and HOOK_PATH not in stderr  # the hook's token is never shown
    assert "gitlab-personal-access-token" not in state.read_text()  # resolved, remembered as such
    assert monitor(state, repo.path).returncode == 0  # so the next run does not report it again


@pytest.fixture
def gitlab(gitlab_server: FakeGitLab) -> FakeGitLab:
    gitlab_server.projects = [Project(7, "acme/security")]
    return gitlab_server


def test_gitlab_issues_are_opened_for_new_findings_and_closed_when_resolved(repo, tmp_path, gitlab):
    state = tmp_path / "state.toml"
    env = clean_env(RADAR_FINGERPRINT_KEY=ENV["RADAR_FINGERPRINT_KEY"], GITLAB_TOKEN=TOKEN, CI_PROJECT_ID="7")
    notify = ("--notify", "gitlab-issues", "--url", gitlab.url)
    project = gitlab.projects[0]

    first = monitor(state, *notify, repo.path, env=env)
    assert first.returncode == 1, first.stderr
    assert sorted(i["title"] for i in project.issues) == [
        "radar: GitHub token in `app/config.py:1`", "radar: GitLab access token in `.env:1`"]
    assert all(i["state"] == "opened" for i in project.issues)

    assert monitor(state, *notify, repo.path, env=env).returncode == 0
    assert len(project.issues) == 2 and not any(project.notes.get(i["iid"]) for i in project.issues)

    (repo.path / ".env").unlink()
    repo.commit("the token goes to Vault")
    third = monitor(state, *notify, repo.path, env=env)
    assert third.returncode == 0, third.stderr
    states = {i["title"]: i["state"] for i in project.issues}
    assert states == {"radar: GitHub token in `app/config.py:1`": "opened",
                      "radar: GitLab access token in `.env:1`": "closed"}
    for issue in project.issues:
        assert_nothing_sent_holds_a_value(json.dumps(issue), f"issue {issue['iid']}")
        for note in project.notes.get(issue["iid"], []):
            assert_nothing_sent_holds_a_value(note["body"], f"a note on issue {issue['iid']}")


@pytest.mark.parametrize("args, message", [
    (("--notify-project", "7"), "--notify-project applies to --notify gitlab-issues only"),
    (("--notify", "gitlab-issues", "--url", "https://gitlab.example.com"),
     "--notify gitlab-issues needs an access token"),
])
def test_notification_settings_are_checked_before_the_scan(repo, tmp_path, args, message):
    state = tmp_path / "state.toml"
    result = monitor(state, *args, repo.path, env=clean_env(RADAR_FINGERPRINT_KEY="k", CI_PROJECT_ID="7"))
    assert result.returncode == 2
    assert message in assert_one_line_error(result)
    assert not state.exists()


def test_notify_options_after_what_to_scan_are_refused_naming_where_they_go(repo, tmp_path):
    result = monitor(tmp_path / "state.toml", repo.path, "--notify", "gitlab-issues")
    assert result.returncode == 2
    assert "--notify is radar monitor's option: give it before what to scan" in assert_one_line_error(result)
