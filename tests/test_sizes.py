"""Sizes in messages: `14.4 MB`, `980 kB`, `1.2 GB` (decimal units), never `14.4344 MB`."""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radar.scan.scanner import ScanOptions, scan_directory
from radar.scan.sources.git import GitHistorySource
from radar.sizes import human_size, sizes_apart

UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15, "EB": 10**18}
SHAPE = re.compile(r"(\d+)(\.\d)? (B|kB|MB|GB|TB|PB|EB)")


@pytest.mark.parametrize("n, shown", [
    (0, "0 B"), (1, "1 B"), (999, "999 B"), (1000, "1 kB"), (1049, "1 kB"), (1050, "1.1 kB"),
    (980_000, "980 kB"), (99_949, "99.9 kB"), (99_950, "100 kB"), (999_499, "999 kB"),
    (999_500, "1 MB"), (10_000_000, "10 MB"), (14_434_400, "14.4 MB"), (390_000_000, "390 MB"),
    (1_200_000_000, "1.2 GB"), (10**21, "1000 EB"),
])
def test_a_size_reads_as_people_write_it(n, shown):
    assert human_size(n) == shown


@settings(max_examples=2000)
@given(st.integers(min_value=0, max_value=10**20))
def test_every_size_has_at_most_three_digits_and_stays_within_5_percent(n):
    shown = human_size(n)
    match = SHAPE.fullmatch(shown)
    assert match, shown
    whole, decimals, unit = match.groups()
    assert len(whole + (decimals or "").lstrip(".")) <= 3 and not (decimals == ".0")
    assert int(whole) < 1000 or unit == "EB"
    value = float(whole + (decimals or "")) * UNITS[unit]
    assert abs(value - n) <= 0.05 * n


@settings(max_examples=1000)
@given(st.integers(min_value=0, max_value=10**18), st.integers(min_value=0, max_value=10**18))
def test_a_larger_size_never_reads_smaller(a, b):
    small, large = sorted((a, b))

    def parsed(text: str) -> float:
        number, unit = text.split(" ")
        return float(number) * UNITS[unit]

    assert parsed(human_size(small)) <= parsed(human_size(large))


def test_sizes_that_would_read_the_same_are_shown_in_bytes():
    assert sizes_apart(14_434_400, 10_000_000) == ("14.4 MB", "10 MB")
    assert sizes_apart(10_000_001, 10_000_000) == ("10,000,001 bytes", "10,000,000-byte")


def test_a_skipped_file_names_its_size_with_three_digits(tmp_path):
    (tmp_path / "big.log").write_bytes(b"x" * 14_434_400)
    report = scan_directory(tmp_path, ScanOptions(max_file_size=10_000_000, jobs=1))
    assert report.warnings == ["big.log: skipped, 14.4 MB is over the 10 MB limit (--max-file-size)"]


def test_a_skipped_blob_names_its_size_with_three_digits(tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", tmp_path, *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "big.log").write_bytes(b"x" * 1_443_440)
    git("add", "big.log")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "big")
    source = GitHistorySource(str(tmp_path), max_size=1_000_000)
    assert list(source.units()) == []
    [warning] = source.warnings
    assert warning.endswith("(big.log): skipped, 1.4 MB is over the 1 MB limit (--max-file-size)"), warning
