"""Scan warnings are said once each: a message repeated for many units is one line with a count
(in stderr and in the reports), the same however the work was split among workers, and a scan
that meets millions of distinct problems keeps a bounded list of them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radar.scan import scanner
from radar.scan.history import scan_history
from radar.scan.scanner import ScanOptions, scan_directory
from radar.scan.warnings import MAX_LISTED, Warnings
from radar_cli import clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
LATIN_1 = "café = 1\n".encode("latin-1")  # \xe9 alone is not UTF-8
NOT_UTF8 = "CHANGES: not valid UTF-8; scanned as Latin-1"


def tally(*messages: str, limit: int = MAX_LISTED, noun: str = "") -> Warnings:
    warnings = Warnings(limit)
    for message in messages:
        warnings.add(message, noun)
    return warnings


def test_a_message_said_once_is_one_line_as_it_is():
    assert tally("a.env: not valid UTF-8; scanned as Latin-1", noun="file").lines() == [
        "a.env: not valid UTF-8; scanned as Latin-1"]


def test_a_message_said_for_many_units_is_one_line_with_their_count():
    assert tally(*[NOT_UTF8] * 214, noun="blob").lines() == [f"{NOT_UTF8} (in 214 blobs)"]
    assert tally(*["d: cannot list directory"] * 3, noun="directory").lines() == [
        "d: cannot list directory (in 3 directories)"]


def test_a_message_without_a_unit_counts_times():
    assert tally("refs/x: points at a tree", "refs/x: points at a tree").lines() == [
        "refs/x: points at a tree (2 times)"]


def test_past_the_limit_the_first_messages_in_sort_order_are_listed_and_the_rest_counted():
    warnings = tally(*[f"{n:02}.env: skipped" for n in reversed(range(10))], "00.env: skipped", limit=3)
    assert warnings.lines() == ["00.env: skipped (2 times)", "01.env: skipped", "02.env: skipped",
                                "7 more warnings not listed (the first 3 distinct ones are, in sort order)"]


def test_merged_batches_count_like_one_tally():
    first, second = tally(NOT_UTF8, "b", noun="blob"), tally(NOT_UTF8, NOT_UTF8, noun="blob")
    first.merge(second)
    assert first.lines() == [f"{NOT_UTF8} (in 3 blobs)", "b"]


messages = st.lists(st.sampled_from([f"path{n}: not valid UTF-8" for n in range(12)]), max_size=80)


@settings(max_examples=300)
@given(messages, st.randoms(use_true_random=False), st.integers(min_value=1, max_value=6))
def test_what_is_listed_does_not_depend_on_the_order_warnings_arrive_in(said, random, limit):
    shuffled = list(said)
    random.shuffle(shuffled)
    assert tally(*said, limit=limit).lines() == tally(*shuffled, limit=limit).lines()


@settings(max_examples=300)
@given(messages, st.integers(min_value=1, max_value=6))
def test_listed_counts_are_exact_and_nothing_said_is_lost(said, limit):
    lines = tally(*said, limit=limit, noun="blob").lines()
    distinct = sorted(set(said))
    listed = distinct[:limit]
    expected = [m if said.count(m) == 1 else f"{m} (in {said.count(m)} blobs)" for m in listed]
    rest = len(said) - sum(said.count(m) for m in listed)
    if rest:
        expected.append(f"{rest} more warning{'s' if rest > 1 else ''} not listed "
                        f"(the first {limit} distinct ones are, in sort order)")
    assert lines == expected


@settings(max_examples=100)
@given(messages, st.integers(min_value=1, max_value=5))
def test_memory_holds_at_most_twice_the_limit(said, limit):
    warnings = tally(*said, limit=limit)
    assert len(warnings._counts) < 2 * limit


def git_repo(path: Path) -> Callable[..., None]:
    path.mkdir()

    def git(*args: str) -> None:
        env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com",
                   GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com")
        subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, env=env)

    git("init", "-q", "-b", "main")
    return git


@pytest.fixture
def changes_in_ten_blobs(tmp_path) -> Path:
    """A repository whose CHANGES, not UTF-8, was committed in 10 versions, beside one UTF-8 file."""
    repo = tmp_path / "repo"
    git = git_repo(repo)
    (repo / "README").write_text("hello\n")
    for n in range(10):
        (repo / "CHANGES").write_bytes(LATIN_1 * (n + 1))
        git("add", "-A")
        git("commit", "-qm", f"release {n}")
    return repo


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_not_utf8_in_many_blobs_is_one_warning_with_the_count(changes_in_ten_blobs, monkeypatch, jobs):
    # Batches of two blobs, so that with two workers the ten versions are read by both of them.
    monkeypatch.setattr(scanner, "BATCH_FILES", 2)
    report = scan_history(str(changes_in_ten_blobs), options=ScanOptions(jobs=jobs))
    assert report.warnings == [f"{NOT_UTF8} (in 10 blobs)"]


def test_stderr_and_the_report_say_it_once(changes_in_ten_blobs):
    result = radar("scan", changes_in_ten_blobs, "--history", "--format", "sarif", env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines() == [f"radar: warning: {NOT_UTF8} (in 10 blobs)"]
    notes = json.loads(result.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes if "UTF-8" in n["message"]["text"]] == [
        f"{NOT_UTF8} (in 10 blobs)."]


def test_a_tree_with_more_distinct_problems_than_the_limit_lists_the_limit(tmp_path):
    for n in range(MAX_LISTED + 5):
        (tmp_path / f"{n:05}.txt").write_bytes(LATIN_1)
    report = scan_directory(tmp_path, ScanOptions(jobs=1))
    assert len(report.warnings) == MAX_LISTED + 1
    assert report.warnings[0] == "00000.txt: not valid UTF-8; scanned as Latin-1"
    assert report.warnings[MAX_LISTED - 1].startswith(f"{MAX_LISTED - 1:05}.txt: ")
    assert report.warnings[-1] == (f"5 more warnings not listed (the first {MAX_LISTED:,} distinct ones are, "
                                   "in sort order)")
