"""What a scan leaves out: `.radarignore` and `--exclude` in gitignore syntax (checked against git
itself), and `.gitignore` honoured by directory scans inside git work trees, as git decides."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_repo import Repo
from radar.scan.examples import expand
from radar.scan.sources.directory import DirectorySource
from radar.scan.sources.ignore import MAX_PATTERNS, ExclusionError, Exclusions
from radar_cli import assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
TOKEN = "glpat-" + expand("{b64url:20}", "local-ignore")
LINE = f"GITLAB_TOKEN={TOKEN}\n"


def scanned(root: Path, *args: str, env: dict[str, str] = ENV) -> list[str]:
    """The paths radar reports a finding in (each planted file holds one token)."""
    result = radar("scan", root, "--format", "json", *args, env=env)
    leaked = TOKEN.encode() in result.stdout + result.stderr
    assert not leaked, "the planted token appeared in radar's output"
    assert result.returncode in (0, 1), result.stderr.decode()
    return sorted(f["path"] for f in json.loads(result.stdout)["findings"])


def plant(root: Path, *paths: str) -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(LINE)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


# -- gitignore syntax, against git's own matching ------------------------------------------------

_NAMES = ["a", "b", "c.x", "d.y", ".e"]
_PATTERN_PARTS = ["a", "b", "*", "**", "*.x", "?", "c.*", "[ab]", "d.y", ".e"]


@st.composite
def trees(draw) -> list[str]:
    paths = draw(st.lists(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map("/".join),
                          min_size=1, max_size=12, unique=True))
    # A path cannot be a file and a directory at once: keep the deepest.
    return sorted(p for p in paths if not any(q.startswith(p + "/") for q in paths))


@st.composite
def patterns(draw) -> list[str]:
    def one(draw) -> str:
        body = "/".join(draw(st.lists(st.sampled_from(_PATTERN_PARTS), min_size=1, max_size=3)))
        return (draw(st.sampled_from(["", "!"])) + draw(st.sampled_from(["", "/"])) + body
                + draw(st.sampled_from(["", "/"])))
    return draw(st.lists(st.composite(one)(), min_size=1, max_size=5))


def _git_keeps(tree: list[str], lines: list[str]) -> set[str]:
    """The files git's own walk does not ignore, with `lines` as the repository's exclude file."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        git(root, "init", "-q")
        (root / ".git" / "info" / "exclude").write_text("\n".join(lines) + "\n")
        for path in tree:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text("x\n")
        listed = subprocess.run(["git", "-C", directory, "ls-files", "-z", "--others", "--exclude-standard"],
                                check=True, capture_output=True).stdout
        return {os.fsdecode(p) for p in listed.split(b"\0") if p}


def _radar_walks(tree: list[str], exclusions: Exclusions) -> set[str]:
    """The files radar's directory walk keeps of `tree`, planted in a fresh directory."""
    with tempfile.TemporaryDirectory() as directory:
        for path in tree:
            (Path(directory) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(directory) / path).write_text("x\n")
        return {u.path for u in DirectorySource(directory, exclusions).units()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), patterns())
def test_exclusions_leave_out_exactly_what_git_ignores(tree, lines):
    exclusions = Exclusions.of(("--exclude", lines))
    walked = _radar_walks(tree, exclusions)
    kept = _git_keeps(tree, lines)
    assert walked == kept, (tree, lines)
    # History and staged scans see file paths only: the same verdict, from the path alone.
    assert {p for p in tree if not exclusions.file_excluded(p)} == kept, (tree, lines)


@pytest.mark.parametrize("lines", [["a/a", "!/**/"], ["/**/", "!/a"], ["**/", "!/**/"], ["/**/"]])
def test_a_rooted_double_star_directory_pattern_means_every_directory_as_in_git(lines):
    # `/**/` once read as `/**?*/`, the top level's directories only (found by the property above).
    tree = ["a/a/a", "a/f", "b/f", "top", "a/b/c/d"]
    exclusions = Exclusions.of(("--exclude", lines))
    walked = _radar_walks(tree, exclusions)
    assert walked == _git_keeps(tree, lines)


def test_a_negated_pattern_re_includes_a_file(tmp_path):
    plant(tmp_path, "a.env", "keep.env", "sub/b.env")
    (tmp_path / ".radarignore").write_text("*.env\n!keep.env\n")
    assert scanned(tmp_path) == ["keep.env"]


def test_double_star_matches_at_every_depth_including_the_top(tmp_path):
    plant(tmp_path, "fixtures/a.env", "x/y/fixtures/b.env", "src/c.env")
    assert scanned(tmp_path, "--exclude", "**/fixtures/") == ["src/c.env"]


def test_a_star_does_not_cross_a_slash(tmp_path):
    plant(tmp_path, "src/a.py", "src/deep/b.py")
    assert scanned(tmp_path, "--exclude", "src/*.py") == ["src/deep/b.py"]


def test_a_trailing_slash_matches_directories_only(tmp_path):
    plant(tmp_path, "logs/a.env", "other/logs")
    assert scanned(tmp_path, "--exclude", "logs/") == ["other/logs"]


def test_a_leading_slash_anchors_to_the_root(tmp_path):
    plant(tmp_path, "config.env", "sub/config.env")
    assert scanned(tmp_path, "--exclude", "/config.env") == ["sub/config.env"]


def test_a_file_under_an_excluded_directory_cannot_be_re_included(tmp_path):
    plant(tmp_path, "vendor/keep.env", "vendor/b.env", "app.env")
    (tmp_path / ".radarignore").write_text("vendor/\n!vendor/keep.env\n")
    assert scanned(tmp_path) == ["app.env"]  # as in git: the directory is never entered


def test_radarignore_can_re_include_what_exclude_left_out(tmp_path):
    plant(tmp_path, "a.env", "b.env")
    (tmp_path / ".radarignore").write_text("!b.env\n")
    assert scanned(tmp_path, "--exclude", "*.env") == ["b.env"]


def test_a_history_scan_applies_negations_to_every_commit(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("two env files", **{"a.env": LINE, "keep.env": LINE.replace("GITLAB", "OTHER")})
    repo.commit("ignore", **{".radarignore": "*.env\n!keep.env\n"})
    result = radar("scan", repo.path, "--history", "--format", "json", env=ENV)
    findings = json.loads(result.stdout)["findings"]
    assert [loc["path"] for f in findings for loc in f["locations"]] == ["keep.env"]


def test_a_bad_pattern_is_one_error_line_naming_the_file_and_line(tmp_path):
    plant(tmp_path, "a.env")
    (tmp_path / ".radarignore").write_text("# vendored\nvendor/\nfoo\\\n")
    result = radar("scan", tmp_path, env=ENV)
    assert result.returncode == 2
    assert ".radarignore:3: not a valid gitignore pattern" in assert_one_line_error(result, TOKEN.encode())


def test_too_many_patterns_are_refused_with_the_limit(tmp_path):
    plant(tmp_path, "a.env")
    (tmp_path / ".radarignore").write_text("".join(f"file{i}.txt\n" for i in range(MAX_PATTERNS + 1)))
    result = radar("scan", tmp_path, env=ENV)
    assert result.returncode == 2
    assert f"more than {MAX_PATTERNS:,} patterns" in assert_one_line_error(result, TOKEN.encode())


def test_a_radarignore_that_is_not_utf8_is_an_error_not_ignored(tmp_path):
    plant(tmp_path, "a.env")
    (tmp_path / ".radarignore").write_bytes(b"\xff\xfe*.env\n")
    result = radar("scan", tmp_path, env=ENV)
    assert result.returncode == 2 and "not UTF-8" in assert_one_line_error(result)


def test_a_backtracking_pattern_costs_time_in_proportion_to_the_name(tmp_path):
    # With a backtracking matcher this pattern against a 250-character name does not finish;
    # the generous subprocess bound (radar_cli.WAIT) turns that into a failure.
    name = "a" * 250 + "bc"
    plant(tmp_path, name, "app.env")
    (tmp_path / ".radarignore").write_text("*a" * 12 + "b\n")
    assert scanned(tmp_path) == sorted(["app.env", name])


def test_exclusions_without_patterns_do_not_load_the_matcher():
    assert not Exclusions.of(("--exclude", ["", "# only a comment"]))


def test_an_empty_pattern_set_raises_nothing_and_excludes_nothing():
    assert not Exclusions.of().file_excluded("a/b")


def test_exclusion_error_is_a_radar_error():
    try:
        Exclusions.of(("--exclude", ["a\\"]))
    except ExclusionError as e:
        assert "--exclude 'a\\\\'" in str(e)
    else:
        raise AssertionError("a trailing backslash was accepted")


# -- .gitignore, as git decides ---------------------------------------------------------------------

def work_tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    return root


def test_a_gitignored_virtualenv_is_not_walked_and_no_gitignore_walks_it(tmp_path):
    root = work_tree(tmp_path / "repo")
    plant(root, "app.env", ".venv/lib/site.env", "build/out.env")
    (root / ".gitignore").write_text(".venv/\nbuild\n")
    assert scanned(root) == ["app.env"]
    assert scanned(root, "--no-gitignore") == [".venv/lib/site.env", "app.env", "build/out.env"]


def test_every_level_info_exclude_and_the_global_excludes_file_apply(tmp_path):
    root = work_tree(tmp_path / "repo")
    plant(root, "app.env", "sub/local.env", "sub/keep.env", "private.env", "editor.env~")
    (root / "sub" / ".gitignore").write_text("*.env\n!keep.env\n")
    (root / ".git" / "info" / "exclude").write_text("private.env\n")
    (tmp_path / "global-ignore").write_text("*~\n")
    (tmp_path / "gitconfig").write_text(f"[core]\n\texcludesFile = {tmp_path / 'global-ignore'}\n")
    env = dict(ENV, GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"))
    assert scanned(root, env=env) == ["app.env", "sub/keep.env"]


def test_a_tracked_file_is_scanned_even_when_a_pattern_matches_it(tmp_path):
    root = work_tree(tmp_path / "repo")
    plant(root, "config/prod.env", "config/local.env")
    git(root, "add", "-f", "config/prod.env")
    (root / ".gitignore").write_text("config/\n")
    assert scanned(root) == ["config/prod.env"]


def test_a_nested_repository_has_its_own_gitignore_honoured(tmp_path):
    root = work_tree(tmp_path / "repo")
    nested = work_tree(root / "vendor" / "lib")
    plant(root, "app.env")
    plant(nested, "lib.env", "cache/tmp.env")
    (nested / ".gitignore").write_text("cache/\n")
    assert scanned(root) == ["app.env", "vendor/lib/lib.env"]


def test_a_sub_directory_of_a_work_tree_follows_the_gitignore_above_it(tmp_path):
    root = work_tree(tmp_path / "repo")
    plant(root, "src/app.env", "src/gen/out.env")
    (root / ".gitignore").write_text("gen/\n")
    assert scanned(root / "src") == ["app.env"]


def test_a_directory_named_on_purpose_is_scanned_though_it_is_ignored(tmp_path):
    root = work_tree(tmp_path / "repo")
    plant(root, "build/out.env", "build/deep/more.env")
    (root / ".gitignore").write_text("build/\n")
    assert scanned(root) == []
    assert scanned(root / "build") == ["deep/more.env", "out.env"]


def test_a_directory_below_an_ignored_one_is_scanned_whole_without_a_warning(tmp_path):
    # git 2.39's ls-files fails there ("directory entry not superset of prefix"); it is still a
    # directory named on purpose, not one git could not be asked about.
    root = work_tree(tmp_path / "repo")
    plant(root, "app.env", "build/deep/more.env", "build/deep/er/most.env")
    (root / ".gitignore").write_text("build/\n")
    result = radar("scan", root / "build" / "deep", "--format", "json", env=ENV)
    assert result.stderr.decode() == ""
    assert sorted(f["path"] for f in json.loads(result.stdout)["findings"]) == ["er/most.env", "more.env"]


def test_a_failure_in_a_directory_git_does_not_ignore_is_still_a_warning(tmp_path):
    root = work_tree(tmp_path / "repo")
    plant(root, "src/app.env")
    (root / ".git" / "index").write_bytes(b"not an index")  # ls-files fails; src is not ignored
    result = radar("scan", root / "src", "--format", "json", env=ENV)
    assert "cannot ask git what .gitignore leaves out" in result.stderr.decode()
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["app.env"]


def test_outside_a_work_tree_gitignore_files_are_not_read(tmp_path):
    plant(tmp_path, "app.env", "build/out.env")
    (tmp_path / ".gitignore").write_text("build/\n")
    assert scanned(tmp_path) == ["app.env", "build/out.env"]


def test_git_refusing_the_work_tree_is_a_warning_and_everything_is_scanned(tmp_path):
    root = work_tree(tmp_path / "repo")
    plant(root, "app.env", "build/out.env")
    (root / ".gitignore").write_text("build/\n")
    (tmp_path / "gitconfig").write_text("[core]\n\trepositoryformatversion = 99\n")
    (root / ".git" / "config").write_text("[core]\n\trepositoryformatversion = 99\n")
    result = radar("scan", root, "--format", "json", env=ENV)
    assert "cannot ask git what .gitignore leaves out" in result.stderr.decode()
    assert sorted(f["path"] for f in json.loads(result.stdout)["findings"]) == ["app.env", "build/out.env"]
