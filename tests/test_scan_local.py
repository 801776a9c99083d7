"""Local use of `radar scan`: several paths in one report, `-` for standard input, `--staged`
(the git index, for a pre-commit hook) in real git repositories, and the shipped pre-commit hook
run by pre-commit itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radar.report.json import SCHEMA_PATH
from radar.report.printable import printable
from radar.scan.examples import expand
from radar_cli import RADAR, WAIT, assert_one_line_error, clean_env

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
TOKEN = "glpat-" + expand("{b64url:20}", "local-use")
LINE = f"GITLAB_TOKEN={TOKEN}\n"
PROJECT = Path(__file__).resolve().parents[1]


def run(cwd: Path, *args: str | os.PathLike[str], input: bytes = b"",
        env: dict[str, str] = ENV) -> subprocess.CompletedProcess[bytes]:
    """`radar scan ARGS` in `cwd`, as a user runs it there."""
    return subprocess.run([*RADAR, "scan", *map(os.fspath, args)], cwd=cwd, input=input, capture_output=True,
                          env=env, timeout=WAIT)


def no_token(result: subprocess.CompletedProcess[bytes]) -> None:
    leaked = TOKEN.encode() in result.stdout + result.stderr
    assert not leaked, "the planted token appeared in radar's output"


def report(cwd: Path, *args: str | os.PathLike[str], input: bytes = b"", env: dict[str, str] = ENV) -> dict:
    result = run(cwd, *args, "--format", "json", input=input, env=env)
    no_token(result)
    assert result.returncode in (0, 1), result.stderr.decode()
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))).validate(document)
    return document


def places(document: dict) -> list[tuple[str, int]]:
    return sorted((f["path"], f["line"]) for f in document["findings"])


def plant(root: Path, *paths: str, text: str = LINE) -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com", GIT_COMMITTER_NAME="Dev",
               GIT_COMMITTER_EMAIL="dev@example.com", **(env or {}))
    for name in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
        env.pop(name, None)
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          env=env).stdout.decode()


def repository(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    return root


# -- several paths ----------------------------------------------------------------------------------

def test_several_paths_make_one_report_with_paths_as_given(tmp_path):
    plant(tmp_path, "a.env", "src/b.env", "src/deep/c.env", "other/d.env")
    document = report(tmp_path, "a.env", "./src", "other/d.env")
    assert places(document) == [("a.env", 1), ("other/d.env", 1), ("src/b.env", 1), ("src/deep/c.env", 1)]
    assert document["scan"]["root"] == str(tmp_path)
    assert document["scan"]["target"] == "."
    assert document["scan"]["targets"] == ["a.env", "./src", "other/d.env"]


def test_a_path_given_twice_or_inside_a_given_directory_is_scanned_once(tmp_path):
    plant(tmp_path, "src/b.env", "a.env")
    document = report(tmp_path, "src/b.env", "a.env", "src", "./a.env")
    assert places(document) == [("a.env", 1), ("src/b.env", 1)]
    assert document["summary"]["files"] == 2


def test_the_current_directory_radarignore_applies_to_named_files(tmp_path):
    plant(tmp_path, "fixtures/x.env", "app.env", "lib/fixtures/y.env")
    (tmp_path / ".radarignore").write_text("fixtures/\n")
    assert places(report(tmp_path, "fixtures/x.env", "app.env", "lib")) == [("app.env", 1)]
    assert places(report(tmp_path, "fixtures", "app.env")) == [("app.env", 1)]


def test_one_exit_status_for_all_paths(tmp_path):
    plant(tmp_path, "clean.txt", text="nothing here\n")
    plant(tmp_path, "dirty.env")
    assert run(tmp_path, "clean.txt").returncode == 0
    assert run(tmp_path, "clean.txt", "dirty.env").returncode == 1


def test_a_missing_path_among_several_is_one_error_line(tmp_path):
    plant(tmp_path, "a.env")
    result = run(tmp_path, "a.env", "missing.env")
    assert result.returncode == 2
    assert "missing.env: no such file or directory" in assert_one_line_error(result, TOKEN.encode())


def test_a_named_file_is_scanned_though_gitignore_matches_it(tmp_path):
    root = repository(tmp_path / "repo")
    plant(root, "local.env")
    (root / ".gitignore").write_text("*.env\n")
    assert places(report(root, "local.env", ".gitignore")) == [("local.env", 1)]


@pytest.mark.parametrize("args, message", [
    ((), "needs a PATH to scan"),
    (("--staged", "a.env"), "--staged scans the git index: give no PATH"),
    (("a.env", "b.env", "--history"), "--history scans one repository: give one PATH"),
    (("-", "--history"), "--history scans one repository"),
])
def test_path_arguments_that_do_not_go_together_are_a_usage_error(tmp_path, args, message):
    result = run(tmp_path, *args)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("usage: radar scan "), lines[0]
    assert lines[-1].startswith("radar scan: error: ") and message in lines[-1], lines[-1]
    assert "Traceback" not in result.stderr.decode()


_FILES = ["a.env", "b/c.env", "b/d/e.env", "f/g.env"]
_GIVEN = st.sampled_from(["a.env", "./a.env", "b", "b/", "./b//", "b/c.env", "b/d", "b/d/e.env", "f", "f/g.env",
                          ".", "b/../f"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_GIVEN, min_size=1, max_size=6))
def test_several_paths_yield_each_file_once_under_its_normalised_path(paths):
    from radar.scan.sources.paths import PathsSource

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as directory:
        for name in _FILES:
            (Path(directory) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(directory) / name).write_text("x\n")
        os.chdir(directory)
        try:
            reported = [unit.path for unit in PathsSource(paths, gitignore=False).units()]
        finally:
            os.chdir(here)
    normalised = [os.path.normpath(p) for p in paths]
    expected = {f for f in _FILES if any(g == "." or f == g or f.startswith(g + "/") for g in normalised)}
    assert sorted(reported) == sorted(expected), (paths, reported)


# -- standard input ---------------------------------------------------------------------------------

def test_standard_input_is_scanned_and_reported_as_a_dash(tmp_path):
    plant(tmp_path, "a.env")
    document = report(tmp_path, "-", "a.env", input=b"nothing\n" + LINE.encode())
    assert places(document) == [("-", 2), ("a.env", 1)]


def test_standard_input_alone(tmp_path):
    document = report(tmp_path, "-", input=LINE.encode())
    assert places(document) == [("-", 1)] and document["scan"]["target"] == "-"


def test_standard_input_over_the_size_limit_is_a_warning_not_read_whole(tmp_path):
    # More than the limit is offered; radar reads one byte past it, warns and scans nothing.
    result = run(tmp_path, "-", "--max-file-size", "1K", input=LINE.encode() * 1000)
    no_token(result)
    assert result.returncode == 0
    assert b"-: standard input skipped, it is over the 0.001 MB limit (--max-file-size)" in result.stderr


# -- --staged, in real repositories ---------------------------------------------------------------------

def test_staged_scans_the_index_not_the_working_tree(tmp_path):
    root = repository(tmp_path / "repo")
    plant(root, "README.md", text="hello\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    plant(root, "config.env", text="# first\n# second\n" + LINE)  # staged: the token on line 3
    git(root, "add", "config.env")
    plant(root, "config.env", text="all clean in the working tree\n")
    plant(root, "untracked.env")  # not staged: not part of the commit
    plant(root, "README.md", text="hello\n" + LINE)  # changed, not staged
    document = report(root, "--staged")
    assert places(document) == [("config.env", 3)]
    assert document["scan"]["root"] == str(root) and document["scan"]["target"] == "--staged"


def test_staged_leaves_out_what_the_commit_does_not_add_or_change(tmp_path):
    root = repository(tmp_path / "repo")
    plant(root, "old.env", "kept.env")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    git(root, "rm", "-q", "old.env")  # deleted: nothing to scan
    assert run(root, "--staged").returncode == 0  # kept.env is unchanged, so not scanned
    git(root, "mv", "kept.env", "moved.env")  # renamed: its content is committed under a new name
    assert places(report(root, "--staged")) == [("moved.env", 1)]


def test_staged_works_before_the_first_commit_and_from_a_sub_directory(tmp_path):
    root = repository(tmp_path / "repo")
    plant(root, "top.env", "sub/deep/low.env")
    git(root, "add", ".")
    document = report(root / "sub" / "deep", "--staged")
    assert places(document) == [("sub/deep/low.env", 1), ("top.env", 1)]
    assert document["scan"]["root"] == str(root)


def test_staged_applies_exclusions_and_the_staged_radarignore(tmp_path):
    root = repository(tmp_path / "repo")
    plant(root, "fixtures/a.env", "b.env", "c.env")
    (root / ".radarignore").write_text("fixtures/\n")
    git(root, "add", ".")
    (root / ".radarignore").write_text("")  # the committed .radarignore is the one that counts
    assert places(report(root, "--staged", "--exclude", "c.env")) == [("b.env", 1)]


def test_staged_leaves_out_symbolic_links(tmp_path):
    root = repository(tmp_path / "repo")
    plant(root, "outside.env")
    os.symlink(TOKEN, root / "link")  # a link's staged content is its target: not a file's text
    git(root, "add", "link")
    assert run(root, "--staged").returncode == 0


def test_staged_outside_a_work_tree_is_one_error_line(tmp_path):
    result = run(tmp_path, "--staged")
    assert result.returncode == 2
    assert "--staged" in assert_one_line_error(result) and "git work tree" in result.stderr.decode()


def test_a_git_hook_blocks_the_commit_of_what_git_commit_a_stages(tmp_path):
    # `git commit -a` stages into a temporary index (GIT_INDEX_FILE) before the hook runs: the
    # hook must judge that index, where the token is, not the repository's own.
    root = repository(tmp_path / "repo")
    plant(root, "app.env", text="clean\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    hook = root / ".git" / "hooks" / "pre-commit"
    out = tmp_path / "report.json"
    hook.write_text(f"#!/bin/sh\n{sys.executable} -m radar scan --staged --format json >{out}\n"
                    f"status=$?\necho $status >{tmp_path / 'status'}\nexit $status\n")
    hook.chmod(0o755)
    plant(root, "app.env")
    with pytest.raises(subprocess.CalledProcessError):
        git(root, "commit", "-q", "-a", "-m", "leak", env={"RADAR_FINGERPRINT_KEY": "test-key",
                                                            "PYTHONPATH": str(PROJECT)})
    assert (tmp_path / "status").read_text() == "1\n"  # findings, not an error
    assert places(json.loads(out.read_text())) == [("app.env", 1)]
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"  # the commit did not happen


_NAME = st.text(st.characters(codec="utf-8", exclude_characters="/\0", exclude_categories=("Cs",)),
                min_size=1, max_size=20).filter(lambda n: n not in (".", "..", ".git") and n.strip() == n
                                                 and not n.startswith("-"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_NAME, min_size=1, max_size=3).map("/".join), min_size=1, max_size=4, unique=True))
def test_staged_reports_every_staged_path_exactly_as_git_has_it(tmp_path_factory, paths):
    # Names with spaces, quotes, newlines, non-ASCII: git quotes them in most outputs, not in -z ones;
    # reports escape control characters (radar's one escaping of scanned text).
    paths = [p for p in paths if not any(q.startswith(p + "/") for q in paths)]
    root = repository(tmp_path_factory.mktemp("repo"))
    for path in paths:
        try:
            plant(root, path)
        except OSError:  # a name this file system refuses: not what this test is about
            return
    git(root, "add", "-A")
    assert places(report(root, "--staged")) == sorted((printable(p), 1) for p in paths)


# -- the shipped pre-commit hook, run by pre-commit ------------------------------------------------------

def test_the_pre_commit_hook_blocks_a_commit_with_a_token_and_passes_a_clean_one(tmp_path):
    import yaml  # pre-commit's own dependency

    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable))
    assert pre_commit, "pre-commit is a test dependency (pip install -e '.[test]')"
    [hook] = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    # The shipped hook, as a local one: `language: python` would install radar from an index.
    hook = dict(hook, language="system")
    root = repository(tmp_path / "repo")
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]}))
    plant(root, "clean.py", text="print('hello')\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "radar").write_text(f"#!/bin/sh\nexec {sys.executable} -m radar \"$@\"\n")
    (bin_dir / "radar").chmod(0o755)
    env = dict(ENV, PATH=f"{bin_dir}:{ENV['PATH']}", HOME=str(tmp_path), PYTHONPATH=str(PROJECT),
               PRE_COMMIT_HOME=str(tmp_path / "cache"))
    git(root, "add", ".")

    def pre_commit_run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([pre_commit, "run", *args], cwd=root, capture_output=True, env=env, timeout=WAIT * 2)

    clean = pre_commit_run()
    assert clean.returncode == 0, clean.stdout.decode()
    plant(root, "settings.env", text="# config\n" + LINE)
    git(root, "add", "settings.env")
    plant(root, "settings.env", text="# unstaged edit that removes it\n")  # pre-commit stashes this
    dirty = pre_commit_run()
    no_token(dirty)
    assert dirty.returncode == 1 and b"settings.env:2:" in dirty.stdout, dirty.stdout.decode()
    assert (root / "settings.env").read_text() == "# unstaged edit that removes it\n"  # restored


def test_an_oversized_staged_radarignore_is_one_error_line(tmp_path):
    from radar.scan.sources.ignore import MAX_IGNORE_FILE_BYTES

    root = repository(tmp_path / "repo")
    plant(root, "a.env")
    (root / ".radarignore").write_bytes(b"#" * (MAX_IGNORE_FILE_BYTES * 3))
    git(root, "add", ".")
    result = run(root, "--staged")
    assert result.returncode == 2
    assert ".radarignore (staged): larger than 1 MB" in assert_one_line_error(result, TOKEN.encode())
