"""`radar scan --history --cache`: blobs found clean are not read again by the next scan with the
same setup, and nothing but hashes of blob ids and paths is kept, privately."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

from hypothesis import given, settings, strategies as st

from git_repo import Repo
from radar.scan import clean_blobs
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar_cli import assert_absent, clean_env, radar

GITLAB = "glpat-" + expand("{b64url:20}", "cache-gitlab")
GITHUB = "ghp_" + expand("{ghcrc:30}", "cache-github")
CUSTOM = "acme_" + expand("{alnum:24}", "cache-custom")
PLANTED = (GITLAB, GITHUB, CUSTOM)
CUSTOM_RULE = """\
[[rules]]
id = "acme-key"
description = "Acme key"
secret_type = "Acme key"
docs = "https://example.com/acme"
severity = "high"
keywords = ["acme_"]
regex = "acme_[A-Za-z0-9]{24}"
"""


def scan(repo: Path, cache_home: Path, *args: str, status: tuple[int, ...] = (0, 1)
         ) -> tuple[subprocess.CompletedProcess, dict]:
    env = clean_env(RADAR_FINGERPRINT_KEY="test-key", XDG_CACHE_HOME=str(cache_home))
    result = radar("scan", repo, "--history", "--cache", "--format", "json", *args, env=env)
    assert_absent(PLANTED, result.stdout + result.stderr, message="planted secret #{n} leaked into the output")
    assert result.returncode in status, result.stderr.decode()[-2000:]
    return result, json.loads(result.stdout)


def found(report: dict) -> list[tuple]:
    return sorted((f["rule_id"], f["fingerprint"], json.dumps(f.get("locations")), f.get("in_head"))
                  for f in report["findings"])


def history(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "r")
    repo.commit("start", **{"README.md": "# app\n", "src__app.py": "print('hello')\n", "src__util.py": "X = 1\n"})
    repo.commit("token", **{"config.env": f"GITLAB_TOKEN={GITLAB}\n"})
    repo.commit("edit", **{"src__app.py": "print('hello, world')\n"})
    repo.commit("drop token", **{"config.env": "GITLAB_TOKEN=${GITLAB_TOKEN}\n"})
    return repo


def test_the_second_scan_skips_clean_blobs_and_reports_the_same(tmp_path):
    repo, cache = history(tmp_path), tmp_path / "cache"
    _, first = scan(repo.path, cache)
    _, second = scan(repo.path, cache)
    assert first["summary"]["known_clean"] == 0
    # 6 blobs: README, app.py twice, util.py, config.env twice; the one holding the token is read again.
    assert second["summary"]["known_clean"] == 5
    assert second["summary"]["files"] == first["summary"]["files"] - 5 == 1
    assert found(second) == found(first) and len(found(first)) == 1


def test_a_secret_committed_after_the_cached_scan_is_found(tmp_path):
    repo, cache = history(tmp_path), tmp_path / "cache"
    scan(repo.path, cache)
    repo.commit("oops", **{"src__util.py": f"X = 1\nTOKEN = '{GITHUB}'\n"})
    _, report = scan(repo.path, cache)
    assert {f["rule_id"] for f in report["findings"]} == {"gitlab-personal-access-token", "github-personal-access-token"}
    assert report["summary"]["files"] == 2  # the new blob and the one holding the older token


def test_new_rules_do_not_trust_what_old_rules_found_clean(tmp_path):
    repo, cache = history(tmp_path), tmp_path / "cache"
    repo.commit("vendor key", **{"src__keys.py": f"KEY = '{CUSTOM}'\n"})
    _, before = scan(repo.path, cache)
    assert "acme-key" not in {f["rule_id"] for f in before["findings"]}
    config = tmp_path / "radar.toml"
    config.write_text(CUSTOM_RULE)
    _, after = scan(repo.path, cache, "--config", str(config))
    assert after["summary"]["known_clean"] == 0
    assert "acme-key" in {f["rule_id"] for f in after["findings"]}
    _, again = scan(repo.path, cache, "--config", str(config))
    assert again["summary"]["known_clean"] > 0 and found(again) == found(after)


def test_the_cache_file_is_private_and_holds_only_hashes(tmp_path):
    repo, cache = history(tmp_path), tmp_path / "cache"
    scan(repo.path, cache)
    [file] = (cache / "radar").glob("clean-blobs-*.txt")
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    header, *entries = file.read_text().splitlines()
    assert header.startswith("radar clean blobs 1 ") and len(entries) == 5
    assert all(len(e) == 32 and set(e) <= set("0123456789abcdef") for e in entries)
    blobs = repo.git("rev-list", "--objects", "--all").split()
    assert not any(blob in file.read_text() for blob in blobs if len(blob) == 40)
    assert_absent(PLANTED, file.read_bytes())


def test_a_damaged_cache_file_is_ignored_and_replaced(tmp_path):
    repo, cache = history(tmp_path), tmp_path / "cache"
    _, first = scan(repo.path, cache)
    [file] = (cache / "radar").glob("clean-blobs-*.txt")
    text = file.read_text()
    file.write_text(text[:-7])  # cut short: the last line has no end
    _, report = scan(repo.path, cache)
    assert report["summary"]["known_clean"] == 0 and found(report) == found(first)
    assert file.read_text() == text


def test_a_scan_that_could_not_read_a_blob_remembers_nothing(tmp_path):
    repo, cache = history(tmp_path), tmp_path / "cache"
    blob = repo.git("rev-parse", "HEAD:src/util.py")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # loose objects: this one is gone
    result, report = scan(repo.path, cache, status=(2,))
    assert "scan incomplete: 1 blob could not be read" in result.stderr.decode() and report["findings"]
    assert not list((cache / "radar").glob("clean-blobs-*.txt"))


def test_cache_needs_history(tmp_path):
    result = radar("scan", tmp_path, "--cache", env=clean_env(XDG_CACHE_HOME=str(tmp_path)))
    assert result.returncode == 2
    assert result.stderr.endswith(b"\nradar scan: error: --all-refs, --branch, --since-commit and --cache need --history\n")


def test_an_entry_depends_on_the_path_and_the_key_as_well_as_the_blob():
    blob, secret = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", b"k" * 32
    assert clean_blobs.entry(blob, "a.txt", secret) != clean_blobs.entry(blob, "a.p12", secret)
    assert clean_blobs.entry(blob, "a.txt", secret) != clean_blobs.entry(blob, "a.txt", b"j" * 32)
    assert clean_blobs.entry(blob, "a.txt", secret) == clean_blobs.entry(blob, "a.txt", secret)


def test_entries_written_without_the_fingerprint_key_hide_nothing(tmp_path):
    # A shared cache (GitLab CI's cache:) may be written by a pipeline that does not hold the key.
    repo, cache = history(tmp_path), tmp_path / "cache"
    repo.commit("oops", **{"src__util.py": f"TOKEN = '{GITHUB}'\n"})
    _, first = scan(repo.path, cache)
    [file] = (cache / "radar").glob("clean-blobs-*.txt")
    header = file.read_text().splitlines()[0]
    blobs = repo.git("rev-list", "--objects", "--all").splitlines()
    forged = {clean_blobs.entry(b, p, secret) for line in blobs if " " in line
              for b, p in [line.split(" ", 1)] for secret in (b"", b"guess", b"test-key")}
    file.write_text(header + "\n" + "".join(f"{e}\n" for e in sorted(forged)))
    _, report = scan(repo.path, cache)
    assert report["summary"]["known_clean"] == 0 and found(report) == found(first)


def test_another_fingerprint_key_keeps_its_own_cache(tmp_path):
    repo, cache = history(tmp_path), tmp_path / "cache"
    scan(repo.path, cache)
    env = clean_env(RADAR_FINGERPRINT_KEY="other-key", XDG_CACHE_HOME=str(cache))
    result = radar("scan", repo.path, "--history", "--cache", "--format", "json", env=env)
    assert json.loads(result.stdout)["summary"]["known_clean"] == 0
    assert len(list((cache / "radar").glob("clean-blobs-*.txt"))) == 2
    _, again = scan(repo.path, cache)
    assert again["summary"]["known_clean"] == 5


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=400) | st.lists(st.sampled_from(
    ["0" * 32, "f" * 32, "a" * 31, "g" * 32, "", " " + "1" * 31, "A" * 32]), max_size=6).map(
    lambda lines: "\n".join(lines).encode()))
def test_any_cache_file_content_loads_or_is_ignored(tmp_path_factory, body):
    home = tmp_path_factory.mktemp("cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(home)
    try:
        empty = clean_blobs.load(("settings",), FingerprintKey(b"k"))
        assert empty.known == frozenset() and empty.path.parent == home / "radar"
        empty.path.parent.mkdir(parents=True)
        empty.path.write_bytes(f"radar clean blobs 1 {empty.setup}\n".encode() + body)
        known = clean_blobs.load(("settings",), FingerprintKey(b"k")).known
        lines = body.split(b"\n")
        valid = lines[-1] == b"" and all(len(x) == 32 and set(x) <= set(b"0123456789abcdef") for x in lines[:-1])
        assert known == (frozenset(x.decode() for x in lines[:-1]) if valid else frozenset())
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME")
        else:
            os.environ["XDG_CACHE_HOME"] = old
