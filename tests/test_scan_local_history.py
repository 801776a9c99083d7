"""`radar scan DIR --history` where DIR is a sub-directory of a work tree: the history of the
paths under DIR, reported from DIR, with DIR's `.radarignore`."""

from __future__ import annotations

import json

from git_repo import Repo
from radar.scan.examples import expand
from radar_cli import clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
TOKEN = "glpat-" + expand("{b64url:20}", "local-history-a")
OTHER = "glpat-" + expand("{b64url:20}", "local-history-b")


def locations(result) -> list[tuple[str, bool]]:
    leaked = any(t.encode() in result.stdout + result.stderr for t in (TOKEN, OTHER))
    assert not leaked, "a planted token appeared in radar's output"
    assert result.returncode in (0, 1), result.stderr.decode()
    return sorted((loc["path"], f["in_head"]) for f in json.loads(result.stdout)["findings"]
                  for loc in f["locations"])


def test_a_sub_directory_scans_the_history_of_its_own_paths(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("team a", **{"team-a__app.env": f"TOKEN={TOKEN}\n", "team-b__svc.env": f"TOKEN={OTHER}\n"})
    repo.commit("team a removes it", **{"team-a__app.env": "TOKEN=\n"})
    result = radar("scan", repo.path / "team-a", "--history", "--format", "json", env=ENV)
    assert locations(result) == [("app.env", False)]


def test_a_sub_directory_history_scan_uses_that_directory_radarignore(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("one", **{"svc__keep.env": f"T={TOKEN}\n", "svc__fixtures__x.env": f"T={OTHER}\n",
                          "svc__.radarignore": "fixtures/\n"})
    result = radar("scan", repo.path / "svc", "--history", "--format", "json", env=ENV)
    assert locations(result) == [("keep.env", True)]


def test_the_top_of_the_work_tree_still_scans_everything(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("two", **{"a__x.env": f"T={TOKEN}\n", "b__y.env": f"T={OTHER}\n"})
    result = radar("scan", repo.path, "--history", "--format", "json", env=ENV)
    assert locations(result) == [("a/x.env", True), ("b/y.env", True)]


def test_a_directory_outside_any_repository_is_one_clear_error(tmp_path):
    result = radar("scan", tmp_path, "--history", env=ENV)
    assert result.returncode == 2
    assert b"not a git repository, nor inside one" in result.stderr


def test_a_work_tree_git_directory_scans_the_whole_repository(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("two", **{"a__x.env": f"T={TOKEN}\n"})
    result = radar("scan", repo.path / ".git", "--history", "--format", "json", env=ENV)
    assert locations(result) == [("a/x.env", True)]


def test_a_directory_inside_the_git_directory_is_one_clear_error(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("one", **{"a.env": f"T={TOKEN}\n"})
    result = radar("scan", repo.path / ".git" / "refs", "--history", env=ENV)
    assert result.returncode == 2
    assert b"inside the git directory" in result.stderr and result.stderr.count(b"\n") == 1


def test_a_sub_directory_of_a_linked_work_tree_scans_its_paths(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("both", **{"a__x.env": f"T={TOKEN}\n", "b__y.env": f"T={OTHER}\n"})
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"))
    result = radar("scan", tmp_path / "linked" / "b", "--history", "--format", "json", env=ENV)
    assert locations(result) == [("y.env", True)]
