"""Which directory `radar scan PATH --history` accepts: a repository's top (a work tree, a linked
work tree, a bare repository, or a work tree's `.git`), found with git itself, not GitPython."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from radar.scan.examples import expand
from radar_cli import assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
# Built from a template, so no live-looking token is stored here.
TOKEN = "glpat-" + expand("{b64url:20}", "git-top-gitlab")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A work tree whose history holds the token in sub/app.env and in docs/sample.env, with a
    .radarignore (committed nowhere) that excludes docs/."""
    path = tmp_path / "repo"
    (path / "sub").mkdir(parents=True)
    (path / "docs").mkdir()
    (path / "sub" / "app.env").write_text(f"GITLAB_TOKEN={TOKEN}\n")
    (path / "docs" / "sample.env").write_text(f"GITLAB_TOKEN={TOKEN}\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "config")
    (path / ".radarignore").write_text("docs/\n")
    return path


def history(path: Path) -> subprocess.CompletedProcess[bytes]:
    result = radar("scan", path, "--history", "--format", "json", env=ENV)
    if TOKEN.encode() in result.stdout + result.stderr:
        pytest.fail("the planted token appeared in radar's output", pytrace=False)
    return result


def paths(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    assert result.returncode == 1, result.stderr
    return [location["path"] for f in json.loads(result.stdout)["findings"] for location in f["locations"]]


def test_the_top_of_a_work_tree_is_scanned_with_its_radarignore(repo):
    assert paths(history(repo)) == ["sub/app.env"]


def test_a_work_trees_git_directory_is_its_repository_with_the_work_trees_radarignore(repo):
    assert paths(history(repo / ".git")) == ["sub/app.env"]


def test_a_linked_work_tree_whose_git_is_a_file_is_a_repository(repo, tmp_path):
    git(repo, "worktree", "add", "-q", str(tmp_path / "linked"))
    assert (tmp_path / "linked" / ".git").is_file()
    assert sorted(paths(history(tmp_path / "linked"))) == ["docs/sample.env", "sub/app.env"]


def test_a_bare_repository_is_a_repository(repo, tmp_path):
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(tmp_path / "bare.git")], check=True)
    assert sorted(paths(history(tmp_path / "bare.git"))) == ["docs/sample.env", "sub/app.env"]


def test_a_directory_inside_a_work_tree_scans_the_history_of_its_own_paths(repo):
    # Not widened to the whole repository: docs/sample.env, outside sub/, is not reported.
    result = history(repo / "sub")
    assert result.returncode == 1
    assert paths(result) == ["app.env"]


def test_a_directory_inside_the_git_directory_is_refused(repo):
    result = history(repo / ".git" / "refs")
    assert result.returncode == 2
    assert "inside the git directory" in assert_one_line_error(result)


def test_a_history_scan_does_not_need_gitpython(repo):
    # `import git` fails in this radar: a history scan that still used GitPython would stop.
    blocked = [sys.executable, "-c", "import sys; sys.modules['git'] = None; from radar.cli import main; "
               "sys.exit(main())"]
    result = subprocess.run([*blocked, "scan", str(repo), "--history", "--format", "json"],
                            capture_output=True, env=ENV)
    if TOKEN.encode() in result.stdout + result.stderr:
        pytest.fail("the planted token appeared in radar's output", pytrace=False)
    assert paths(result) == ["sub/app.env"]
