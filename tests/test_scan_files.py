"""What the directory scan does with awkward files: never a crash, a warning where it matters."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.scanner import ScanError, ScanOptions, scan_directory
from radar_cli import clean_env, radar, without_file_access_override

TOKEN = "glpat-" + expand("{b64url:20}", "files")
KEY = FingerprintKey(b"test-key")
ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")


def scan(root: Path, **options):
    return scan_directory(root, ScanOptions(jobs=1, **options), KEY)


def test_paths_are_relative_to_the_root_with_forward_slashes(tmp_path):
    (tmp_path / "deploy" / "prod").mkdir(parents=True)
    (tmp_path / "deploy" / "prod" / "ci.env").write_text(f"TOKEN={TOKEN}\n")
    [finding] = scan(tmp_path).findings
    assert finding.path == "deploy/prod/ci.env"


def test_a_single_file_can_be_scanned(tmp_path):
    (tmp_path / "one.env").write_text(f"TOKEN={TOKEN}\n")
    [finding] = scan(tmp_path / "one.env").findings
    assert finding.path == "one.env"


def test_binary_file_is_skipped_and_counted(tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02" + TOKEN.encode() + b"\x00" * 64)
    report = scan(tmp_path)
    assert report.findings == [] and report.stats.binary == 1 and report.warnings == []


def test_file_over_the_size_limit_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "big.log").write_text(f"TOKEN={TOKEN}\n" + "x" * 5000)
    report = scan(tmp_path, max_file_size=1000)
    assert report.findings == []
    assert len(report.warnings) == 1 and "big.log" in report.warnings[0] and "limit" in report.warnings[0]


def test_invalid_utf8_is_read_as_latin1_with_a_warning(tmp_path):
    (tmp_path / "legacy.conf").write_bytes(b"caf\xe9 \xff\xfe\nTOKEN=" + TOKEN.encode() + b"\n")
    report = scan(tmp_path)
    assert [f.line for f in report.findings] == [2]
    assert len(report.warnings) == 1 and "not valid UTF-8" in report.warnings[0]


def test_utf8_text_keeps_character_columns(tmp_path):
    (tmp_path / "i18n.yml").write_text(f"clé_été: {TOKEN}\n", encoding="utf-8")
    [finding] = scan(tmp_path).findings
    assert finding.column == len("clé_été: ") + 1


def test_symbolic_links_are_not_followed_by_default(tmp_path):
    target = tmp_path / "outside"
    target.mkdir()
    (target / "secret.env").write_text(f"TOKEN={TOKEN}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(target)
    (root / "file-link.env").symlink_to(target / "secret.env")
    report = scan(root)
    assert report.findings == [] and report.warnings == []


def test_symlink_loop_is_walked_once_with_a_warning(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.env").write_text(f"TOKEN={TOKEN}\n")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    report = scan(tmp_path, follow_symlinks=True)
    assert [f.path for f in report.findings] == ["a/x.env"]
    assert any("loop" in w and "a/loop" in w for w in report.warnings)


def test_dangling_symlink_with_follow_is_a_warning(tmp_path):
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    report = scan(tmp_path, follow_symlinks=True)
    assert report.findings == [] and any("gone" in w for w in report.warnings)


def test_fifo_is_skipped_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "x.env").write_text(f"TOKEN={TOKEN}\n")
    report = scan(tmp_path)
    assert [f.path for f in report.findings] == ["x.env"]


def test_git_directory_is_skipped(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(f"url = https://oauth2:{TOKEN}@gitlab.example.com/x.git\n")
    assert scan(tmp_path).findings == []


def test_radarignore_and_exclude_globs_skip_paths(tmp_path):
    for rel in ("vendor/lib.env", "docs/a.env", "src/app.env", "src/gen/out.env", "keep.env"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"TOKEN={TOKEN}\n")
    (tmp_path / ".radarignore").write_text("# third-party code\nvendor/\nsrc/gen/*\n")
    report = scan(tmp_path, exclude=("docs",))
    assert sorted(f.path for f in report.findings) == ["keep.env", "src/app.env"]


def test_missing_root_is_a_scan_error(tmp_path):
    with pytest.raises(ScanError, match="no such file or directory"):
        scan(tmp_path / "missing")


def test_parallel_scan_finds_the_same_as_a_serial_one(tmp_path):
    for i in range(60):
        (tmp_path / f"f{i}.env").write_text(f"TOKEN_{i}={TOKEN}\n" + "filler line\n" * 9000)
    serial = scan_directory(tmp_path, ScanOptions(jobs=1), KEY).findings
    parallel = scan_directory(tmp_path, ScanOptions(jobs=2), KEY).findings
    assert len(serial) == 60 and serial == parallel


# Permission failures only show for a process without CAP_DAC_OVERRIDE: tests run as root drop it
# with setpriv (see radar_cli.without_file_access_override), so the kernel really refuses.

INCOMPLETE = "radar: error: scan incomplete: {} could not be read (each named in a warning above)"


def test_unreadable_file_is_a_warning_the_rest_is_reported_and_the_scan_fails(tmp_path):
    # A scan that could not read what it was asked to read must not pass as clean, or as "found
    # something" either (a CI job's `|| test $? -eq 1` would then let it through): exit 2, after
    # the whole report.
    (tmp_path / "locked.env").write_text(f"TOKEN={TOKEN}\n")
    (tmp_path / "locked.env").chmod(0)
    (tmp_path / "open.env").write_text(f"TOKEN={TOKEN}\n")
    result = radar("scan", tmp_path, "--format", "json", env=ENV, prefix=without_file_access_override())
    assert result.returncode == 2
    assert b"locked.env: cannot read: permission denied" in result.stderr
    assert result.stderr.decode().splitlines()[-1] == INCOMPLETE.format("1 file")
    assert b'"path": "open.env"' in result.stdout and b"locked.env" not in result.stdout
    assert b'"unreadable": 1' in result.stdout


@pytest.mark.parametrize("format", ["json", "sarif", "gitlab"])
def test_the_machine_read_reports_of_an_incomplete_scan_say_it_is_incomplete(tmp_path, format):
    # A dashboard reading only the report (not radar's exit status) must not take a partial scan
    # for a complete one: SARIF's executionSuccessful, GitLab's scan status, radar's scan.complete.
    (tmp_path / "locked.env").write_text(f"TOKEN={TOKEN}\n")
    (tmp_path / "locked.env").chmod(0)
    (tmp_path / "open.env").write_text(f"TOKEN={TOKEN}\n")
    partial = radar("scan", tmp_path, "--format", format, env=ENV, prefix=without_file_access_override())
    (tmp_path / "locked.env").chmod(0o644)
    whole = radar("scan", tmp_path, "--format", format, env=ENV, prefix=without_file_access_override())
    assert (partial.returncode, whole.returncode) == (2, 1)
    said = {"json": lambda d: d["scan"]["complete"],
            "sarif": lambda d: d["runs"][0]["invocations"][0]["executionSuccessful"],
            "gitlab": lambda d: d["scan"]["status"] == "success"}[format]
    assert said(json.loads(partial.stdout)) is False and said(json.loads(whole.stdout)) is True
    if format == "sarif":
        partial_notifications = json.loads(partial.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert {"level": "error", "message": {"text": "scan incomplete: 1 file could not be read."}} in partial_notifications
        assert len(partial_notifications) == 2  # the file's own warning, and the run's verdict
    if format == "gitlab":
        messages = json.loads(partial.stdout)["scan"]["messages"]
        assert messages[-1] == {"level": "warn", "value": "scan incomplete: 1 file could not be read"}


def test_unlistable_directory_is_a_warning_and_the_scan_fails(tmp_path):
    (tmp_path / "sealed").mkdir()
    (tmp_path / "sealed" / "x.env").write_text(f"TOKEN={TOKEN}\n")
    (tmp_path / "sealed").chmod(0)
    try:
        result = radar("scan", tmp_path, env=ENV, prefix=without_file_access_override())
    finally:
        (tmp_path / "sealed").chmod(0o755)
    assert result.returncode == 2
    assert b"sealed: cannot list directory: permission denied" in result.stderr
    assert result.stderr.decode().splitlines()[-1] == INCOMPLETE.format("1 directory")


def test_entries_that_cannot_be_looked_at_are_counted_each(tmp_path):
    # A directory that may be listed but not entered (r--): its entries cannot be looked at.
    (tmp_path / "dim").mkdir()
    for name in ("a.env", "b.env"):
        (tmp_path / "dim" / name).write_text(f"TOKEN={TOKEN}\n")
    (tmp_path / "dim").chmod(0o444)
    try:
        result = radar("scan", tmp_path, env=ENV, prefix=without_file_access_override())
    finally:
        (tmp_path / "dim").chmod(0o755)
    assert result.returncode == 2
    assert b"dim/a.env: cannot stat: permission denied" in result.stderr
    assert result.stderr.decode().splitlines()[-1] == INCOMPLETE.format("2 files")


def test_what_a_documented_policy_leaves_out_is_not_a_failure(tmp_path):
    (tmp_path / "big.env").write_text(f"TOKEN={TOKEN}\n" + "x" * 2000)
    (tmp_path / "blob.bin").write_bytes(b"\x00" + TOKEN.encode())
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.env").write_text(f"TOKEN={TOKEN}\n")
    (tmp_path / "link.env").symlink_to(tmp_path / "big.env")
    os.mkfifo(tmp_path / "pipe")
    result = radar("scan", tmp_path, "--max-file-size", "1000", "--exclude", "vendor", env=ENV)
    assert result.returncode == 0, result.stderr
    assert b"big.env: skipped" in result.stderr and b"error" not in result.stderr


def test_a_file_that_grows_over_the_limit_while_read_is_skipped_not_a_failure(tmp_path):
    from radar.scan.sources.directory import FileUnit
    from radar.scan.sources.interface import UnitSkipped

    (tmp_path / "log.txt").write_text("x" * 50)
    unit = FileUnit("log.txt", str(tmp_path / "log.txt"), size=10, max_size=20)
    with pytest.raises(UnitSkipped, match="grew over"):
        unit.read()


def test_a_file_that_grew_after_the_walk_is_read_whole_up_to_the_limit(tmp_path):
    # The walk's size only sizes the reads: what the file holds when read is what is scanned.
    from radar.scan.sources.directory import FileUnit
    from radar.scan.sources.interface import UnitSkipped

    content = bytes(range(256)) * 1000  # 256 kB, read in several pieces
    (tmp_path / "grown.bin").write_bytes(content)
    assert FileUnit("grown.bin", str(tmp_path / "grown.bin"), size=10, max_size=len(content)).read() == content
    with pytest.raises(UnitSkipped, match="grew over"):
        FileUnit("grown.bin", str(tmp_path / "grown.bin"), size=10, max_size=len(content) - 1).read()
