"""radar.files, the one writer of every file radar makes at a user's path (--output, --plan):
a regular or new file is replaced atomically; a symbolic link stays a link and its target is
written; a FIFO, a socket or a device is written in place; /dev/stdout and friends are radar's own
descriptors; and nothing in radar's source renames over a path it did not create.

The tests that let radar write /dev/null or /dev/stdout run it as nobody (radar_cli.as_nobody):
were the writer to regress, nobody may not replace anything in /dev, so the test fails instead
of this machine losing its /dev/null.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from radar.errors import RadarError
from radar.files import check_writable, write_file
from radar.scan.examples import expand
from radar_cli import NOBODY, RADAR, as_nobody, clean_env, radar

REPORT = "a report\n" * 20_000  # 180 kB: more than a pipe holds, so a FIFO's reader must keep up
TOKEN = "glpat-" + expand("{b64url:20}", "files-writer")
RADAR_SOURCE = Path(__file__).resolve().parents[1] / "radar"


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- regular and new files ----------------------------------------------------------------------

def test_a_new_file_is_created_with_the_usual_permissions(tmp_path):
    write_file(tmp_path / "report.json", REPORT)
    assert (tmp_path / "report.json").read_text() == REPORT
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o666 & ~umask
    assert _names(tmp_path) == ["report.json"]


def test_a_regular_file_is_replaced_whole_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o600)
    before = target.stat().st_ino
    write_file(target, REPORT)
    assert target.read_text() == REPORT and target.stat().st_ino != before  # a new file, renamed in
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _names(tmp_path) == ["report.json"]


def test_a_mode_given_is_what_a_new_file_gets_whatever_the_umask(tmp_path):
    previous = os.umask(0)  # the loosest umask: 0666 would be the usual result
    try:
        write_file(tmp_path / "index.jsonl", REPORT, mode=0o600)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "index.jsonl").stat().st_mode) == 0o600
    assert _names(tmp_path) == ["index.jsonl"]


def test_a_mode_given_replaces_a_looser_files_permissions(tmp_path):
    target = tmp_path / "index.jsonl"
    target.write_text("old")
    target.chmod(0o644)
    write_file(target, REPORT, mode=0o600)
    assert target.read_text() == REPORT
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_mode_given_applies_to_a_links_target_and_the_link_stays(tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("old")
    target.chmod(0o664)
    link = tmp_path / "index.jsonl"
    link.symlink_to("real.jsonl")
    write_file(link, REPORT, mode=0o600)
    assert link.is_symlink() and target.read_text() == REPORT
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_bytes_are_written_as_they_are(tmp_path):
    write_file(tmp_path / "cache.bin", b"\x00\xff")
    assert (tmp_path / "cache.bin").read_bytes() == b"\x00\xff"


def test_content_in_pieces_is_written_as_one_file(tmp_path):
    pieces = [REPORT[i:i + 7] for i in range(0, len(REPORT), 7)] + ["…" * 600_000]  # over one write's worth
    write_file(tmp_path / "report.json", iter(pieces))
    assert (tmp_path / "report.json").read_text() == "".join(pieces)
    assert _names(tmp_path) == ["report.json"]


def test_a_failure_while_pieces_come_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")

    def pieces():
        yield "x" * (3 << 20)  # written to the temporary file before the failure
        raise ValueError("rendering failed")

    with pytest.raises(ValueError):
        write_file(target, pieces())
    assert target.read_text() == "old"
    assert _names(tmp_path) == ["report.json"]


def test_pieces_reach_a_fifos_reader_whole(tmp_path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    pieces = [REPORT] * 5000
    write_file(fifo, (piece for piece in pieces))
    assert reader.finish() == "".join(pieces).encode()


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(RadarError, match="it is a directory; give a file name"):
        write_file(tmp_path, REPORT)


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(RadarError, match=f"no directory {tmp_path / 'missing'}; create it first"):
        write_file(tmp_path / "missing" / "report.json", REPORT)


# --- symbolic links -----------------------------------------------------------------------------

def test_a_symbolic_link_stays_a_link_and_its_target_is_replaced(tmp_path):
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "latest.json"
    target.write_text("stale")
    link = tmp_path / "report.json"
    link.symlink_to("reports/latest.json")  # relative, as `ln -s` makes them
    write_file(link, REPORT)
    assert link.is_symlink() and os.readlink(link) == "reports/latest.json"
    assert target.read_text() == REPORT
    assert _names(tmp_path) == ["report.json", "reports"] and _names(tmp_path / "reports") == ["latest.json"]


def test_a_chain_of_links_is_followed_to_the_end(tmp_path):
    (tmp_path / "c.json").write_text("stale")
    (tmp_path / "b").symlink_to(tmp_path / "c.json")
    (tmp_path / "a").symlink_to("b")
    write_file(tmp_path / "a", REPORT)
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()
    assert (tmp_path / "c.json").read_text() == REPORT


def test_a_dangling_link_gets_its_target_created(tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "out" / "report.json")
    write_file(link, REPORT)
    assert link.is_symlink() and (tmp_path / "out" / "report.json").read_text() == REPORT


def test_a_dangling_link_into_a_missing_directory_is_refused_before_writing(tmp_path):
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "gone" / "report.json")
    with pytest.raises(RadarError, match=f"no directory {tmp_path / 'gone'}; create it first"):
        check_writable(link)
    assert link.is_symlink()


def test_a_link_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(RadarError, match="too many levels of symbolic links"):
        write_file(tmp_path / "a", REPORT)


def test_a_link_to_a_directory_is_refused(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "link").symlink_to("dir")
    with pytest.raises(RadarError, match="it is a directory"):
        check_writable(tmp_path / "link")


# --- FIFOs, sockets, descriptors ----------------------------------------------------------------

class FifoReader:
    """Reads a FIFO to its end in a thread. It holds a write end itself until `finish()`, so the
    reader never sees an end of file before the writer under test has come and gone (and never
    hangs when it does not come at all)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(self.fd, True)
        self.keeper = os.open(path, os.O_WRONLY)
        self.data = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while chunk := os.read(self.fd, 65536):
            self.data += chunk

    def finish(self) -> bytes:
        os.close(self.keeper)
        self.thread.join(timeout=60)
        os.close(self.fd)
        return bytes(self.data)


def test_a_fifo_is_written_in_place_and_its_reader_gets_everything(tmp_path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    check_writable(fifo)
    write_file(fifo, REPORT)
    assert reader.finish() == REPORT.encode()
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _names(tmp_path) == ["report.pipe"]


def test_a_link_to_a_fifo_writes_into_the_fifo(tmp_path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    (tmp_path / "report.json").symlink_to("report.pipe")
    reader = FifoReader(fifo)
    write_file(tmp_path / "report.json", REPORT)
    assert reader.finish() == REPORT.encode()
    assert (tmp_path / "report.json").is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_socket_is_connected_to_and_written(tmp_path):
    path = tmp_path / "report.sock"
    received = bytearray()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)

        def serve() -> None:
            connection, _ = server.accept()
            with connection:
                while chunk := connection.recv(65536):
                    received.extend(chunk)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        write_file(path, REPORT)
        thread.join(timeout=60)
    assert bytes(received) == REPORT.encode() and stat.S_ISSOCK(path.lstat().st_mode)


@pytest.mark.parametrize("name", ["/dev/fd/{fd}", "/proc/self/fd/{fd}", "/proc/{pid}/fd/{fd}"])
def test_a_name_of_radars_own_descriptor_writes_through_it(name):
    read_end, write_end = os.pipe()
    try:
        path = name.format(fd=write_end, pid=os.getpid())
        check_writable(path)
        write_file(path, "through the pipe\n")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"through the pipe\n"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_a_descriptor_not_open_for_writing_is_refused():
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(RadarError, match=f"file descriptor {read_end} is not open for writing"):
            check_writable(f"/dev/fd/{read_end}")
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_descriptor_that_is_not_open_is_refused():
    closed = os.open(os.devnull, os.O_RDONLY)
    os.close(closed)
    with pytest.raises(RadarError, match=f"file descriptor {closed} is not open"):
        check_writable(f"/proc/self/fd/{closed}")


# --- the command line, unprivileged, with real /dev/null and /dev/stdout ------------------------

@pytest.fixture
def nobody_dir():
    """A directory radar may read and write as nobody (pytest's tmp_path is root's alone)."""
    directory = Path(tempfile.mkdtemp(prefix="radar-files-"))
    directory.chmod(0o755)
    (directory / "tree").mkdir()
    (directory / "tree" / "config.env").write_text(f"GITLAB_TOKEN={TOKEN}\n")
    (directory / "cache").mkdir()
    if os.geteuid() == 0:
        for path in (directory, directory / "tree", directory / "tree" / "config.env", directory / "cache"):
            os.chown(path, NOBODY, NOBODY)
    yield directory
    shutil.rmtree(directory)


def _nobody_env(directory: Path) -> dict[str, str]:
    return clean_env(RADAR_FINGERPRINT_KEY="files-writer", HOME=str(directory), XDG_CACHE_HOME=str(directory / "cache"))


def _devices_intact() -> None:
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is no longer a character device"
    assert os.path.islink("/dev/stdout"), "/dev/stdout is no longer a symbolic link"


def test_output_to_dev_null_writes_nothing_anywhere_and_leaves_the_device(nobody_dir):
    result = radar("scan", nobody_dir / "tree", "--format", "json", "--output", "/dev/null",
                   env=_nobody_env(nobody_dir), prefix=as_nobody())
    assert result.returncode == 1, result.stderr[-400:]
    assert result.stdout == b"" and result.stderr == b""
    _devices_intact()


def test_output_to_dev_stdout_is_radars_standard_output(nobody_dir):
    result = radar("scan", nobody_dir / "tree", "--format", "json", "--output", "/dev/stdout",
                   env=_nobody_env(nobody_dir), prefix=as_nobody())
    assert result.returncode == 1, result.stderr[-400:]
    assert json.loads(result.stdout)["findings"][0]["path"] == "config.env"
    _devices_intact()


def test_output_to_dev_stdout_appends_where_the_shell_appends(nobody_dir):
    log = nobody_dir / "log"
    log.write_text("earlier line\n")
    with open(log, "ab") as stdout:
        done = subprocess.run([*as_nobody(), *RADAR, "scan", str(nobody_dir / "tree"), "--format", "csv",
                               "--output", "/dev/stdout"], stdout=stdout, stderr=subprocess.PIPE,
                              env=_nobody_env(nobody_dir), timeout=120)
    assert done.returncode == 1, done.stderr[-400:]
    text = log.read_text()
    assert text.startswith("earlier line\npath,line,column,") and text.count("config.env") == 1
    _devices_intact()


def test_plan_output_to_dev_null_as_nobody(nobody_dir):
    findings = nobody_dir / "findings.json"
    report = radar("scan", nobody_dir / "tree", "--format", "json", env=_nobody_env(nobody_dir), prefix=as_nobody())
    findings.write_bytes(report.stdout)
    result = radar("plan", findings, "--project-id", "7", "--output", "/dev/null",
                   env=_nobody_env(nobody_dir), prefix=as_nobody())
    assert result.returncode == 0, result.stderr[-400:]
    assert result.stdout == b""
    _devices_intact()


def test_scan_output_and_plan_into_fifos_reach_their_readers(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "config.env").write_text(f"GITLAB_TOKEN={TOKEN}\n")
    report, plan_link, plan = tmp_path / "report.pipe", tmp_path / "plan.md", tmp_path / "plan.pipe"
    os.mkfifo(report)
    os.mkfifo(plan)
    plan_link.symlink_to("plan.pipe")  # --plan takes its format from the name: a link named .md
    readers = FifoReader(report), FifoReader(plan)
    result = radar("scan", tree, "--format", "json", "--output", report, "--plan", plan_link, "--project-id", "7",
                   env=clean_env(RADAR_FINGERPRINT_KEY="files-writer"))
    got_report, got_plan = (reader.finish() for reader in readers)
    assert result.returncode == 1, result.stderr[-400:]
    assert json.loads(got_report)["findings"][0]["path"] == "config.env"
    assert got_plan.startswith(b"# Vault migration plan\n")
    assert stat.S_ISFIFO(report.lstat().st_mode) and plan_link.is_symlink() and stat.S_ISFIFO(plan.lstat().st_mode)


def test_scan_output_through_a_symbolic_link_updates_the_target(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "config.env").write_text(f"GITLAB_TOKEN={TOKEN}\n")
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "2024.json").write_text("stale")
    link = tmp_path / "latest.json"
    link.symlink_to("archive/2024.json")
    result = radar("scan", tree, "--format", "json", "--output", link, env=clean_env(RADAR_FINGERPRINT_KEY="files-writer"))
    assert result.returncode == 1, result.stderr[-400:]
    assert link.is_symlink() and json.loads((tmp_path / "archive" / "2024.json").read_text())["findings"]


# --- nothing else renames -----------------------------------------------------------------------

# Where radar may rename, and why that replaces nothing it did not create:
ALLOWED_RENAMES = {
    ("files.py", "_replace_atomically"),  # the writer: its own temporary file over the destination
    # the engine caches (hyperscan databases, plans, expressions): a temporary file of its own, renamed inside
    # radar's cache directory ($XDG_CACHE_HOME/radar), never at a path a user gave
    ("scan/cache_files.py", "store_cached"),
}
_RENAMING_FUNCTIONS = {("os", "replace"), ("os", "rename"), ("os", "renames"), ("shutil", "move")}


def _renames(tree: ast.AST) -> set[str]:
    """The functions in `tree` that call something that renames: os.replace/rename/renames,
    shutil.move (also imported by name), or a method `.replace(x)`/`.rename(x)` with one argument
    (pathlib's; str.replace takes two)."""
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names if (node.module, alias.name) in _RENAMING_FUNCTIONS}
    found = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func
            if isinstance(callee, ast.Name) and callee.id in imported:
                found.add(function.name)
            elif isinstance(callee, ast.Attribute):
                module = callee.value.id if isinstance(callee.value, ast.Name) else None
                if (module, callee.attr) in _RENAMING_FUNCTIONS or (
                        callee.attr in ("replace", "rename") and len(node.args) == 1 and not node.keywords):
                    found.add(function.name)
    return found


def test_only_the_writer_and_the_cache_rename_anything():
    found = {(path.relative_to(RADAR_SOURCE).as_posix(), name)
             for path in sorted(RADAR_SOURCE.rglob("*.py"))
             for name in _renames(ast.parse(path.read_text(encoding="utf-8")))}
    assert found == ALLOWED_RENAMES


@pytest.mark.parametrize("code", [
    "import os\ndef f(a, b):\n    os.rename(a, b)\n",
    "from os import replace as swap\ndef f(a, b):\n    swap(a, b)\n",
    "import shutil\ndef f(a, b):\n    shutil.move(a, b)\n",
    "def f(path, other):\n    path.with_suffix('.tmp').replace(other)\n",
])
def test_the_rename_finder_finds_each_way_to_rename(code):
    assert _renames(ast.parse(code)) == {"f"}


def test_the_rename_finder_leaves_string_and_dataclass_replace_alone():
    code = "from dataclasses import replace\ndef f(s, x):\n    return s.replace('a', 'b'), replace(x, y=1)\n"
    assert _renames(ast.parse(code)) == set()
