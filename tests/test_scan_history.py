"""`radar scan REPO --history` on real repositories built with git: one finding per secret value,
every place it was committed, the commit that first introduced it, and whether HEAD still has it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zlib
from pathlib import Path

import pytest

from git_repo import Repo
from radar.scan.examples import expand
from radar_cli import assert_absent, assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
GITLAB = "glpat-" + expand("{b64url:20}", "history-gitlab")
GITLAB_2 = "glpat-" + expand("{b64url:20}", "history-gitlab-2")
GITHUB = "ghp_" + expand("{ghcrc:30}", "history-github")
PLANTED = (GITLAB, GITLAB_2, GITHUB)


def scan(repo: Path | str, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = radar("scan", repo, "--history", "--format", "json", *args, env=ENV)
    assert_no_secret(result)
    return result, json.loads(result.stdout)


def assert_no_secret(result: subprocess.CompletedProcess) -> None:
    assert_absent(PLANTED, result.stdout + result.stderr, message="planted secret #{n} leaked into the output")


def only(report: dict) -> dict:
    [finding] = report["findings"]
    return finding


def test_a_secret_added_then_removed_is_reported_as_history_only(tmp_path):
    repo = Repo(tmp_path / "r")
    first = repo.commit("add config", **{"app__config.env": f"GITLAB_TOKEN={GITLAB}\n"})
    repo.commit("remove the token", **{"app__config.env": "GITLAB_TOKEN=${GITLAB_TOKEN}\n"})
    result, report = scan(repo.path)
    finding = only(report)
    assert result.returncode == 1
    assert finding["rule_id"] == "gitlab-personal-access-token"
    assert finding["in_head"] is False
    assert finding["first_seen"] == {"commit": first, "author": "Dev One <dev@example.com>", "date": Repo.date(1)}
    assert finding["commit"] == first
    assert finding["locations"] == [{"path": "app/config.env", "line": 1, "commit": first,
                                     "author": "Dev One <dev@example.com>", "date": Repo.date(1)}]


def test_a_secret_still_in_head_is_in_head(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("add", **{"config.env": f"T={GITLAB}\n"})
    _, report = scan(repo.path)
    assert only(report)["in_head"] is True


def test_the_same_secret_in_many_commits_and_two_branches_is_one_finding(tmp_path):
    repo = Repo(tmp_path / "r")
    first = repo.commit("one", **{"config.env": f"T={GITLAB}\n"})
    second = repo.commit("two", **{"config.env": f"A=1\nT={GITLAB}\n"})
    on_branch = repo.commit_on_branch("feature", "branch", **{"deploy.yml": f"token: {GITLAB}\n"})
    third = repo.commit("three", **{"config.env": f"A=1\nB=2\nT={GITLAB}\n"})
    _, report = scan(repo.path)
    finding = only(report)
    places = [(loc["path"], loc["line"], loc["commit"]) for loc in finding["locations"]]
    assert places == [("config.env", 1, first), ("config.env", 2, second),
                      ("deploy.yml", 1, on_branch), ("config.env", 3, third)]
    assert finding["first_seen"]["commit"] == first


def test_a_rename_is_a_second_location_of_the_same_blob(tmp_path):
    repo = Repo(tmp_path / "r")
    first = repo.commit("add", **{"old.env": f"T={GITLAB}\n"})
    repo.git("mv", "old.env", "new.env")
    renamed = repo.commit("rename")
    finding = only(scan(repo.path)[1])
    assert [(loc["path"], loc["commit"]) for loc in finding["locations"]] == [("old.env", first), ("new.env", renamed)]
    assert finding["in_head"] is True


def test_a_merge_is_not_blamed_for_what_a_branch_introduced(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("base", **{"README.md": "hello\n"})
    on_branch = repo.commit_on_branch("feature", "branch", **{"ci.env": f"T={GITLAB}\n"})
    repo.commit("main moves on", **{"README.md": "hello again\n"})
    repo.day += 1
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature")
    finding = only(scan(repo.path)[1])
    assert [loc["commit"] for loc in finding["locations"]] == [on_branch]
    assert finding["in_head"] is True


def test_content_written_by_a_merge_itself_is_attributed_to_the_merge(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("base", **{"ci.env": "T=none\n"})
    repo.commit_on_branch("feature", "branch", **{"ci.env": "T=feature\n"})
    repo.commit("main", **{"ci.env": "T=main\n"})
    repo.day += 1
    subprocess.run(["git", "-C", str(repo.path), "merge", "-q", "feature"], capture_output=True)
    repo.write("ci.env", f"T={GITLAB}\n")
    merge = repo.commit("resolve the conflict")
    finding = only(scan(repo.path)[1])
    assert [loc["commit"] for loc in finding["locations"]] == [merge]


def test_a_deleted_file_is_still_found(tmp_path):
    repo = Repo(tmp_path / "r")
    added = repo.commit("add", **{"keys__deploy.env": f"T={GITHUB}\n"})
    repo.git("rm", "-q", "keys/deploy.env")
    repo.commit("delete")
    finding = only(scan(repo.path)[1])
    assert finding["rule_id"] == "github-personal-access-token"
    assert finding["locations"][0]["path"] == "keys/deploy.env" and finding["commit"] == added
    assert finding["in_head"] is False


def test_a_commit_reachable_only_from_a_tag_is_scanned(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("base", **{"README.md": "hello\n"})
    tagged = repo.commit_on_branch("release", "release build", **{"build.env": f"T={GITLAB}\n"})
    repo.git("tag", "v1.0", tagged)
    repo.git("branch", "-q", "-D", "release")
    finding = only(scan(repo.path)[1])
    assert finding["commit"] == tagged and finding["in_head"] is False
    assert scan(repo.path, "--branch", "main")[1]["findings"] == []


def test_since_commit_scans_only_what_came_after(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("old secret", **{"old.env": f"T={GITLAB}\n"})
    boundary = repo.commit("boundary", **{"README.md": "x\n"})
    newer = repo.commit("new secret", **{"new.env": f"T={GITLAB_2}\n"})
    result, report = scan(repo.path, "--since-commit", boundary)
    finding = only(report)
    assert finding["commit"] == newer and finding["path"] == "new.env"
    assert scan(repo.path, "--since-commit", newer)[0].returncode == 0


def test_branch_limits_the_scan_to_one_branch(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("base", **{"README.md": "x\n"})
    repo.commit_on_branch("feature", "feature secret", **{"f.env": f"T={GITLAB}\n"})
    assert scan(repo.path, "--branch", "main")[1]["findings"] == []
    assert only(scan(repo.path, "--branch", "feature")[1])["path"] == "f.env"
    result = radar("scan", repo.path, "--history", "--branch", "nope", env=ENV)
    assert result.returncode == 2 and "no branch named 'nope'" in assert_one_line_error(result)


def test_not_a_repository_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "a.env").write_text(f"T={GITLAB}\n")
    result = radar("scan", tmp_path, "--history", env=ENV)
    assert_no_secret(result)
    assert result.returncode == 2
    assert "not a git repository" in assert_one_line_error(result, GITLAB.encode())


def test_history_options_need_history(tmp_path):
    result = radar("scan", tmp_path, "--branch", "main", env=ENV)
    assert result.returncode == 2 and result.stderr.startswith(b"usage: radar scan (PATH [PATH ...] | --staged)")
    assert result.stderr.endswith(b"\nradar scan: error: --all-refs, --branch, --since-commit and --cache need --history\n")


def test_a_submodule_is_reported_not_followed(tmp_path):
    repo = Repo(tmp_path / "r")
    base = repo.commit("base", **{"README.md": "x\n"})
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{base},vendor/lib")
    repo.day += 1
    repo.git("commit", "-q", "-m", "add a submodule")
    result, report = scan(repo.path)
    assert result.returncode == 0 and report["findings"] == []
    assert b"warning: vendor/lib: submodule" in result.stderr


def test_a_shallow_clone_warns_that_history_is_incomplete(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("old", **{"old.env": f"T={GITLAB}\n"})
    repo.commit("new", **{"README.md": "x\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    result, report = scan(clone)
    assert b"shallow clone" in result.stderr and b"history is incomplete" in result.stderr
    assert only(report)["path"] == "old.env"  # still in the shallow tip's tree
    assert result.returncode == 1


def test_a_blob_over_the_size_limit_is_skipped_with_a_warning_naming_it(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("big", **{"big.env": f"T={GITLAB}\n" + "#" * 500 + "\n"})
    blob = repo.git("rev-parse", "HEAD:big.env")
    result, report = scan(repo.path, "--max-file-size", "200")
    assert report["findings"] == [] and result.returncode == 0
    assert f"blob {blob} (big.env): skipped".encode() in result.stderr


def test_binary_blobs_are_skipped(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("binary", **{"image.bin": b"\0\1\2" + f"T={GITLAB}\n".encode()})
    result, report = scan(repo.path)
    assert report["findings"] == [] and report["summary"]["binary_files"] == 1


def test_text_output_shows_locations_and_in_head(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("one", **{"a.env": f"T={GITLAB}\n"})
    repo.commit("two", **{"b.env": f"T={GITLAB}\n", "a.env": "T=\n"})
    result = radar("scan", repo.path, "--history", env=ENV)
    assert_no_secret(result)
    [line] = result.stdout.decode().splitlines()
    assert line.startswith("a.env:1:3\tgitlab-personal-access-token")
    assert line.endswith("2 location(s), in HEAD")


def test_a_provider_rule_names_the_finding_over_a_generic_one(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("generic first", **{"settings.py": f"password = \"{GITLAB}\"\n"})
    repo.commit("provider later", **{"ci.env": f"GITLAB_TOKEN={GITLAB}\n"})
    finding = only(scan(repo.path)[1])
    assert finding["rule_id"] == "gitlab-personal-access-token"
    assert len(finding["locations"]) == 2


def test_no_planted_secret_appears_in_any_output_form(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("one", **{"a.env": f"T={GITLAB}\nG={GITHUB}\n", "b.yml": f"token: {GITLAB_2}\n"})
    repo.commit("two", **{"a.env": "T=\n"})
    for args in ([], ["--show-ignored"], ["--format", "json"], ["--format", "json", "--all-refs"]):
        result = radar("scan", repo.path, "--history", *args, env=ENV)
        assert result.returncode == 1
        assert_no_secret(result)


def test_the_blob_reader_answers_pipelined_requests_in_order_and_reports_a_missing_blob(tmp_path):
    from radar.scan.sources.git import BlobReader
    from radar.scan.sources.interface import UnitReadError

    repo = Repo(tmp_path / "r")
    repo.commit("files", **{"a.txt": "alpha\n", "b.txt": "beta\n", "c.txt": "gamma\n"})
    ids = {name: repo.git("rev-parse", f"HEAD:{name}") for name in ("a.txt", "b.txt", "c.txt")}
    reader = BlobReader(str(repo.path))
    try:
        reader.request(ids["a.txt"])
        reader.request(ids["b.txt"])
        assert reader.read(ids["a.txt"]) == b"alpha\n"
        assert reader.read(ids["b.txt"]) == b"beta\n"
        assert reader.read(ids["c.txt"]) == b"gamma\n"  # not announced: asked for on the spot
        with pytest.raises(UnitReadError, match="missing or corrupt"):
            reader.read("1" * 40)
        assert reader.read(ids["a.txt"]) == b"alpha\n"
    finally:
        reader.close()


def test_a_tag_on_a_blob_is_reported_and_does_not_stop_the_scan(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("add", **{"ci.env": f"T={GITLAB}\n"})
    repo.git("tag", "key-blob", repo.git("rev-parse", "HEAD:ci.env"))
    result, report = scan(repo.path)
    assert only(report)["path"] == "ci.env"
    assert b"refs/tags/key-blob: points at a blob, not a commit" in result.stderr


INCOMPLETE = "radar: error: scan incomplete: {} could not be read (each named in a warning above)"


def test_a_missing_blob_is_a_warning_naming_it_and_the_scan_fails(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("add", **{"ci.env": f"T={GITLAB}\n", "ok.txt": "fine\n"})
    blob = repo.git("rev-parse", "HEAD:ci.env")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    result, report = scan(repo.path)
    assert result.returncode == 2 and report["findings"] == []
    assert f"blob {blob} (ci.env): missing or corrupt object, skipped".encode() in result.stderr
    assert result.stderr.decode().splitlines()[-1] == INCOMPLETE.format("1 blob")


def _corrupt_loose_object(repo: Repo, blob: str) -> None:
    """Damage the end of a loose object's compressed data: its header still reads, so `cat-file
    --batch-check` answers, but `cat-file --batch` stops at it (`unable to stream`)."""
    path = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    data = zlib.compress(zlib.decompress(path.read_bytes()))
    path.chmod(0o644)
    path.write_bytes(data[:-6] + bytes(b ^ 0xFF for b in data[-6:]))


def test_a_corrupt_blob_is_named_the_others_are_still_read_and_the_scan_fails(tmp_path):
    # git stops at an object it cannot inflate. It used to take the rest of the scan with it (every
    # later blob "missing or corrupt", its secrets unreported) and the scan exited 0 or 1.
    repo = Repo(tmp_path / "r")
    secrets = {f"f{i}.env": "glpat-" + expand("{b64url:20}", f"corrupt-{i}") for i in range(5)}
    repo.commit("add", **{name: f"TOKEN={value}\n" for name, value in secrets.items()})
    broken = repo.git("rev-parse", "HEAD:f1.env")
    _corrupt_loose_object(repo, broken)
    result = radar("scan", repo.path, "--history", "--format", "json", "--jobs", "1", env=ENV)
    assert_absent(secrets.values(), result.stdout + result.stderr, message="planted secret #{n} leaked into the output")
    assert result.returncode == 2
    found = sorted(f["path"] for f in json.loads(result.stdout)["findings"])
    assert found == ["f0.env", "f2.env", "f3.env", "f4.env"]
    stderr = result.stderr.decode()
    assert f"f1.env: cannot read: blob {broken} is corrupt" in stderr
    assert stderr.splitlines()[-1] == INCOMPLETE.format("1 blob")


def test_a_corrupt_pack_is_named_and_the_scan_fails(tmp_path):
    repo = Repo(tmp_path / "r")
    for i in range(4):  # incompressible enough that the damage lands inside one blob's data
        repo.write(f"f{i}.txt", "\n".join(hashlib.sha256(f"{i} {j}".encode()).hexdigest() for j in range(300)))
    repo.commit("add", **{"token.env": f"T={GITLAB}\n"})
    repo.git("repack", "-q", "-a", "-d")
    [pack] = (repo.path / ".git" / "objects" / "pack").glob("*.pack")
    pack.chmod(0o644)
    data = bytearray(pack.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 32):
        data[i] ^= 0x5A
    pack.write_bytes(bytes(data))
    result, report = scan(repo.path)
    assert result.returncode == 2
    assert [f["path"] for f in report["findings"]] == ["token.env"]
    assert "is corrupt" in result.stderr.decode()
    assert result.stderr.decode().splitlines()[-1] == INCOMPLETE.format("1 blob")


def test_the_blob_reader_goes_on_after_git_stops_at_a_corrupt_blob(tmp_path):
    from radar.scan.sources.git import BlobReader
    from radar.scan.sources.interface import UnitReadError

    repo = Repo(tmp_path / "r")
    repo.commit("files", **{"a.txt": "alpha\n", "b.txt": "beta\n", "c.txt": "gamma\n"})
    ids = {name: repo.git("rev-parse", f"HEAD:{name}") for name in ("a.txt", "b.txt", "c.txt")}
    _corrupt_loose_object(repo, ids["b.txt"])
    reader = BlobReader(str(repo.path))
    try:
        for name in ("a.txt", "b.txt", "c.txt"):
            reader.request(ids[name])
        assert reader.read(ids["a.txt"]) == b"alpha\n"
        assert reader.read(ids["c.txt"]) == b"gamma\n"  # past the corrupt one, pending before it
        with pytest.raises(UnitReadError, match="is corrupt"):
            reader.read(ids["b.txt"])
        assert reader.read(ids["a.txt"]) == b"alpha\n"
    finally:
        reader.close()


def _clone(origin: Repo, target: Path) -> Repo:
    subprocess.run(["git", "clone", "-q", str(origin.path), str(target)], check=True, capture_output=True)
    clone = Repo.__new__(Repo)
    clone.path, clone.day = target, origin.day
    clone.git("config", "user.name", "Dev Two")
    clone.git("config", "user.email", "two@example.com")
    return clone


def test_remote_branches_are_scanned_only_with_all_refs(tmp_path):
    origin = Repo(tmp_path / "origin")
    origin.commit("base", **{"README.md": "x\n"})
    origin.commit_on_branch("feature", "feature secret", **{"f.env": f"T={GITLAB_2}\n"})
    clone = _clone(origin, tmp_path / "clone")
    assert scan(clone.path)[1]["findings"] == []
    finding = only(scan(clone.path, "--all-refs")[1])
    assert finding["path"] == "f.env" and finding["in_head"] is False


def test_in_head_follows_origin_head_when_the_clone_has_it(tmp_path):
    origin = Repo(tmp_path / "origin")
    origin.commit("secret on the default branch", **{"ci.env": f"T={GITLAB}\n"})
    clone = _clone(origin, tmp_path / "clone")
    clone.git("checkout", "-q", "-b", "cleanup")
    clone.commit("remove it locally", **{"ci.env": "T=\n"})
    # HEAD (cleanup) no longer has the value, but the remote's default branch still does.
    assert only(scan(clone.path)[1])["in_head"] is True


def test_a_repository_without_commits_finds_nothing_and_says_so_once(tmp_path):
    repo = Repo(tmp_path / "r")
    result, report = scan(repo.path)
    assert result.returncode == 0 and report["findings"] == []
    assert result.stderr.count(b"no commits") == 1


def test_a_file_or_a_missing_path_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "a.env").write_text("x\n")
    for target, message in ((tmp_path / "a.env", "not a directory"), (tmp_path / "nope", "no such file or directory")):
        result = radar("scan", target, "--history", env=ENV)
        assert result.returncode == 2 and message in assert_one_line_error(result)


def places(finding: dict) -> list[tuple[str, str]]:
    return [(loc["path"], loc["commit"]) for loc in finding["locations"]]


def test_exclude_drops_what_was_only_committed_under_excluded_paths(tmp_path):
    repo = Repo(tmp_path / "r")
    first = repo.commit("add", **{"app__config.env": f"T={GITLAB}\n", "fixtures__keys.env": f"T={GITLAB}\nU={GITHUB}\n",
                                  "certs__dev.key.txt": f"T={GITLAB_2}\n"})
    result, report = scan(repo.path, "--exclude", "fixtures/", "--exclude", "*.key.txt")
    # GITLAB is also under app/: reported there only. GITHUB and GITLAB_2 were never anywhere else.
    finding = only(report)
    assert finding["rule_id"] == "gitlab-personal-access-token" and places(finding) == [("app/config.env", first)]
    assert result.returncode == 1
    _, unfiltered = scan(repo.path)
    assert len(unfiltered["findings"]) == 3


def test_an_excluded_path_gives_no_location_first_commit_or_head_presence(tmp_path):
    repo = Repo(tmp_path / "r")
    first = repo.commit("add", **{"app__settings.env": f"T={GITLAB}\n"})
    repo.git("mv", "app", "tests")
    repo.commit("move the settings under tests/")
    finding = only(scan(repo.path, "--exclude", "tests")[1])
    assert places(finding) == [("app/settings.env", first)]
    assert finding["in_head"] is False  # HEAD has the value only under the excluded tests/
    assert only(scan(repo.path)[1])["in_head"] is True


def test_exclude_globs_with_a_slash_match_the_path_from_the_top(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("add", **{"a__b__c.env": f"T={GITLAB}\n", "b__c.env": f"T={GITLAB_2}\n"})
    report = scan(repo.path, "--exclude", "b/c.env")[1]
    assert [f["path"] for f in report["findings"]] == ["a/b/c.env"]


def test_radarignore_of_the_working_tree_applies_to_history(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("add", **{"vendor__lib__conf.env": f"T={GITLAB}\n", "app.env": f"T={GITLAB_2}\n"})
    repo.commit("ignore vendored code", **{".radarignore": "# third-party code\nvendor/\n"})
    report = scan(repo.path)[1]
    assert [f["path"] for f in report["findings"]] == ["app.env"]
    # Uncommitted changes to the file count: it is the working tree's.
    (repo.path / ".radarignore").write_text("*.env\n")
    assert scan(repo.path)[1]["findings"] == []


def test_radarignore_of_the_tip_applies_to_a_bare_repository(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("add", **{"vendor__conf.env": f"T={GITLAB}\n", "app.env": f"T={GITLAB_2}\n",
                          ".radarignore": "vendor/\n"})
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True, capture_output=True)
    assert [f["path"] for f in scan(bare)[1]["findings"]] == ["app.env"]
    assert [f["path"] for f in scan(bare, "--exclude", "app.env")[1]["findings"]] == []


def test_a_small_history_is_scanned_in_one_process_unless_jobs_are_asked_for(tmp_path, pool_starts):
    # Forking workers costs more than it saves on a few hundred blobs; --jobs N still has them.
    from radar.scan import scanner
    from radar.scan.findings import FingerprintKey
    from radar.scan.history import SMALL_HISTORY_OBJECTS, scan_history
    from radar.scan.sources.git import object_count

    repo = Repo(tmp_path / "r")
    repo.commit("add", **{"config.env": f"T={GITLAB}\n", "README.md": "# app\n"})
    repo.commit("more", **{"src__app.py": f"TOKEN = '{GITHUB}'\n"})
    assert 0 < object_count(str(repo.path)) <= SMALL_HISTORY_OBJECTS
    key = FingerprintKey(b"test-key")
    runs = {}
    for jobs in (0, 2):
        report = scan_history(str(repo.path), options=scanner.ScanOptions(jobs=jobs), key=key)
        runs[jobs] = sorted((f.rule_id, f.fingerprint, f.path, f.line) for f in report.findings)
    assert pool_starts == [2]
    assert runs[0] == runs[2] and len(runs[0]) == 2
