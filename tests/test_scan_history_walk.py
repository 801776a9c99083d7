"""Reading history (`sources.git`): `git log --raw -z` of real repositories, made with git
fast-import, parsed into commits and introductions; and the `git log` a scan starts early is
never left running."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.scan.sources.git import GitHistorySource, Introduction

# Path components that look like the parser's own markers or fields: a leading colon (a raw
# entry's start), a newline (git puts one before each commit's entries), the commit mark, spaces
# and tabs (field separators of the raw line), bytes that are not UTF-8.
AWKWARD = [b":", b"::100644 100644", b"\n", b"\n:", b"\x01commit\x01", b" ", b"\t", b"\xff\xfe", "é".encode(),
           b"M", b"0" * 40, b"a"]
COMPONENT = st.lists(st.sampled_from(AWKWARD), min_size=1, max_size=4).map(b"".join).filter(
    lambda c: c not in (b".", b"..") and c.lower() != b".git")
PATH = st.lists(COMPONENT, min_size=1, max_size=2).map(b"/".join)
AUTHOR = st.lists(st.sampled_from([b":", b"\x01commit\x01", b"Dev", b" ", "ü".encode(), b"\xff"]),
                  min_size=1, max_size=4).map(b"".join).filter(lambda a: a.strip() == a != b"")
MODE = st.sampled_from([b"100644", b"100755", b"120000"])
# A commit: (author, {path: (mode, content) or None to delete}).
COMMIT = st.tuples(AUTHOR, st.dictionaries(PATH, st.none() | st.tuples(MODE, st.binary(max_size=20)),
                                           min_size=1, max_size=3))


def _quoted(path: bytes) -> bytes:
    """`path` as fast-import's C-style quoted string."""
    out = bytearray(b'"')
    for byte in path:
        char = bytes([byte])
        if char in b'"\\':
            out += b"\\" + char
        elif byte < 0x20 or byte >= 0x7f:
            out += b"\\%03o" % byte
        else:
            out += char
    return bytes(out + b'"')


def build(repo: Path, commits: list[tuple[bytes, dict[bytes, tuple[bytes, bytes] | None]]]) -> list[dict]:
    """A bare repository of `commits` (oldest first, one day apart); returns, per commit, the
    paths it set to a blob that differs from the one before: {path: blob id}."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    stream = bytearray()
    tree: dict[bytes, tuple[bytes, bytes]] = {}
    introduced = []
    for n, (author, changes) in enumerate(commits):
        stamp = 1_600_000_000 + n * 86_400
        stream += b"commit refs/heads/main\n"
        stream += b"committer %s <dev@example.invalid> %d +0000\n" % (author, stamp)
        stream += b"data 2\nc\n"  # each commit follows the branch's last one
        new = {}
        for path, change in changes.items():
            # A path cannot be both a file and a directory in one tree: drop what would clash.
            if any(p.startswith(path + b"/") or path.startswith(p + b"/") for p in tree if p != path):
                continue
            if change is None:
                if tree.pop(path, None) is not None:
                    stream += b"D " + _quoted(path) + b"\n"
                continue
            mode, content = change
            if tree.get(path) == change:
                continue
            tree[path] = change
            stream += b"M " + mode + b" inline " + _quoted(path) + b"\ndata %d\n" % len(content) + content + b"\n"
            new[path] = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        introduced.append(new)
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=bytes(stream), check=True)
    return introduced


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commits=st.lists(COMMIT, min_size=1, max_size=5))
def test_the_walk_reads_every_path_and_author_as_committed(tmp_path_factory, commits):
    repo = tmp_path_factory.mktemp("walk") / "r.git"
    introduced = build(repo, commits)
    source = GitHistorySource(str(repo))
    source.collect()
    # git log lists the newest commit first; a commit that changed nothing it kept is still listed.
    assert [c.author for c in source.commits] == [
        author.decode("utf-8", "surrogateescape") + " <dev@example.invalid>" for author, _ in reversed(commits)]
    expected: dict[str, list[Introduction]] = {}
    for index, new in enumerate(reversed(introduced)):
        for path, blob in new.items():
            expected.setdefault(blob, []).append(Introduction(path.decode("utf-8", "surrogateescape"), index))
    assert {b: sorted(i, key=lambda i: (i.commit, i.path)) for b, i in source.introductions.items()} == {
        b: sorted(i, key=lambda i: (i.commit, i.path)) for b, i in expected.items()}


def _git_logs() -> list[str]:
    """The command lines of this process's child `git log` processes (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        # The parent id is the 4th field, after the command name in parentheses.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and cmdline.startswith(b"git\0") and b"\0log\0" in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode())
    return found


@pytest.fixture(scope="module")
def long_history(tmp_path_factory) -> Path:
    """A history whose log is larger than the pipe git writes it into: git log cannot finish
    before it is read."""
    repo = tmp_path_factory.mktemp("long") / "long.git"
    build(repo, [(b"Dev", {b"file-%d" % (n % 50): (b"100644", b"%d" % n)}) for n in range(6_000)])
    return repo


def test_a_log_started_and_never_read_is_stopped_by_close(long_history):
    source = GitHistorySource(str(long_history))
    source.start()
    assert _git_logs(), "git log should be running, blocked on its full pipe"
    source.close()
    assert _git_logs() == []
    source.close()  # twice is harmless


def test_a_history_scan_that_fails_after_git_log_started_leaves_no_git_behind(long_history, monkeypatch):
    from radar.scan import history

    def failing(*args, **kwargs):
        raise RuntimeError("the engine could not be built")

    monkeypatch.setattr(history, "scan_source", failing)
    with pytest.raises(RuntimeError, match="could not be built"):
        history.scan_history(str(long_history))
    assert _git_logs() == []


def test_a_log_started_early_reads_the_same_history_as_one_started_by_collect(long_history):
    early = GitHistorySource(str(long_history))
    early.start()
    early.collect()
    late = GitHistorySource(str(long_history))
    late.collect()
    assert len(early.commits) == 6_000
    assert early.commits == late.commits and early.introductions == late.introductions
    assert _git_logs() == []
