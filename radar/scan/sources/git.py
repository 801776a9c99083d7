"""A git repository's history as text units: every blob reachable from the chosen refs, once.

How it works, without checking anything out:

1. `git log --raw -c --no-renames -z --no-abbrev <refs> [^SINCE]` streams, for every reachable
   commit, the paths whose content it set. For an ordinary commit (and a root commit, diffed
   against the empty tree) that is every added or modified path. For a merge, `-c` lists only
   the paths whose merged content differs from *every* parent: a blob that the merge merely took
   over from one side is attributed to the commit on that side that introduced it, while a
   conflict resolution or an "evil merge" that writes new content is attributed to the merge.
   Deletions introduce nothing. Each (blob, path, commit) is an `Introduction`; blobs are keyed
   by object id, so identical content at many paths or in many commits is scanned once.
2. `git cat-file --batch-check` gives the type and size of every unique blob (one process, ids
   streamed in, answers read as they come), so blobs over the size limit are skipped with a
   warning naming blob and path.
3. Each blob becomes a `GitBlobUnit`; its `read()` asks a long-lived `git cat-file --batch`
   process (one per scanning process, started on first use) for the content. Only the content of
   the blobs being scanned at that moment is in memory; what is kept for the whole run is the
   introductions (object ids, interned paths, indexes into the commit table), which is what the
   findings' locations are made of.

A sub-directory of a work tree limits the scan to the history of the paths under it (`git log
--full-history -- DIR`, so no side branch is simplified away), and paths are reported from it,
as a directory scan of it reports them; a monorepo's team scans its own part.

Exclusions work as in a directory scan, on the paths blobs were committed under: `--exclude`
patterns and the `.radarignore` of the scanned directory in the working tree (of the default
branch's tip in a bare repository), in gitignore syntax, so a `!` line re-includes paths in every
commit. An introduction under an excluded path is dropped as history is read, so a blob only
ever committed under excluded paths is not scanned, and no location, first introduction or
`in_head` comes from an excluded path.

Gitlinks (mode 160000, submodules) are reported as warnings and not followed. A shallow
repository is scanned with a warning that history before its shallow boundary is missing.
"""

from __future__ import annotations

import collections
import fcntl
import logging
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from radar.errors import RadarError
from radar.scan.findings import Origin
from radar.scan.sources.ignore import (IGNORE_FILE, MAX_IGNORE_FILE_BYTES, Exclusions, parse_ignore_lines,
                                      read_ignore_lines)
from radar.scan.sources.interface import Source, TextUnit, UnitReadError
from radar.scan.warnings import Warnings
from radar.sizes import sizes_apart

GITLINK_MODE = b"160000"
log = logging.getLogger("radar.scan")  # -v: what history held
_COMMIT_MARK = b"\x01commit\x01"


# git otherwise maps whole packs (core.packedGitLimit) and keeps a 96 MiB delta base cache: on a
# 255 MB pack, 240-360 MB resident for each of `git log`, the size lookup and every worker's
# cat-file. Small windows cost no time. The delta cache must still hold a chain's bases: in a
# clone's pack nearly every blob is a delta of another version, and with 8 MiB cat-file rebuilt
# them again and again (all 40,152 blobs of 20,000 commits: 4.28 s at 8 MiB, 0.52 s at 16, 0.34 s
# at 32; radar scan --history 5.3 / 3.1 / 3.3 s, 229 MB summed at 16 against 263 at 32;
# benchmarks/scan_history_shapes.py).
_LEAN_PACK_READING = ("-c", "core.deltaBaseCacheLimit=16m", "-c", "core.packedGitWindowSize=2m",
                      "-c", "core.packedGitLimit=8m")

# git log starts before the scan builds its engine and workers (~45 ms), and runs ahead into a
# pipe this large meanwhile (Linux lets any user go up to 1 MiB; elsewhere the default stays).
_LOG_PIPE_SIZE = 1 << 20


class GitSourceError(RadarError):
    pass


@dataclass(frozen=True, slots=True)
class Commit:
    id: str
    author: str
    date: str  # committer date, ISO 8601
    timestamp: int


@dataclass(frozen=True, slots=True)  # one per changed path per commit: keep them small
class Introduction:
    """A commit that set `path` to the blob's content."""

    path: str
    commit: int  # index into GitHistorySource.commits


@dataclass(frozen=True)
class RefSelection:
    all_refs: bool = False
    branch: str | None = None
    since_commit: str | None = None


def git(repo: str, *args: str, input: bytes | None = None, needed_by: str | None = None) -> bytes:
    """Run a git command in `repo`; a failure becomes a GitSourceError with git's own message.
    `needed_by` names the option that needs git, for when it is missing (`--staged`)."""
    try:
        result = subprocess.run(["git", "-C", repo, *args], input=input, capture_output=True)
    except FileNotFoundError:
        needs = f"; {needed_by} needs it" if needed_by else ""
        raise GitSourceError(f"git is not installed (or not on PATH){needs}") from None
    if result.returncode != 0:
        raise _failed(f"git {args[0]}", result.stderr, result.returncode)
    return result.stdout


def _popen(command: list[str], **kwargs) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(command, **kwargs)`; git missing is a GitSourceError."""
    try:
        return subprocess.Popen(command, **kwargs)
    except FileNotFoundError:
        raise GitSourceError("git is not installed (or not on PATH)") from None


def _failed(command: str, stderr: bytes, returncode: int) -> GitSourceError:
    """The error for a git command that failed: the last line of what git said, or its exit status."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return GitSourceError(f"{command} failed: {lines[-1] if lines else 'exit ' + str(returncode)}")


@dataclass(frozen=True)
class Repository:
    """The repository a path is in, as git describes it (one `git rev-parse` for all of it)."""

    top: str  # the work tree's top, or a bare repository's directory
    prefix: str  # where the path is inside the work tree (`/`-separated, "" at the top)
    bare: bool
    shallow: bool


def open_repository(path: str) -> Repository:
    """The repository `path` is in (a work tree or a bare repository), found with git itself; or a
    GitSourceError. A sub-directory limits the scan to its paths (see the module's docstring)."""
    if not os.path.exists(path):
        raise GitSourceError(f"{path}: no such file or directory")
    if not os.path.isdir(path):
        raise GitSourceError(f"{path}: not a directory (--history needs a git repository)")
    answer = _rev_parse(path, "--is-inside-git-dir", "--is-bare-repository", "--is-shallow-repository",
                        "--absolute-git-dir")
    inside_git_dir, bare, shallow, git_dir = answer.split(b"\n", 3)
    git_dir = git_dir.removesuffix(b"\n")
    is_bare, is_shallow = bare == b"true", shallow == b"true"
    if inside_git_dir == b"true":
        if not os.path.samefile(path, git_dir):
            raise GitSourceError(f"{path}: inside the git directory {os.fsdecode(git_dir)}; give the repository's "
                                 "top (or a directory of its work tree)")
        # A work tree's `.git` given itself: the work tree is its parent, where .radarignore is.
        return Repository(os.fsdecode(git_dir if is_bare else os.path.dirname(git_dir)), "", is_bare, is_shallow)
    top, prefix = _rev_parse(path, "--show-toplevel", "--show-prefix").split(b"\n")[:2]
    return Repository(os.fsdecode(top), os.fsdecode(prefix).rstrip("/"), is_bare, is_shallow)


def _rev_parse(path: str, *args: str) -> bytes:
    """`git rev-parse ARGS` in `path`; a directory outside any repository is one clear error."""
    try:
        return git(path, "rev-parse", *args)
    except GitSourceError as e:
        if "not a git repository" in str(e):
            raise GitSourceError(f"{path}: not a git repository, nor inside one (--history needs one)") from None
        raise


def _resolves(repo: str, rev: str) -> bool:
    result = subprocess.run(["git", "-C", repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                            capture_output=True)
    return result.returncode == 0


def default_tip(repo: str, resolves: Callable[[str], bool] | None = None) -> str | None:
    """The default branch's tip: origin/HEAD when the clone has it, else HEAD. `resolves(rev)`
    says whether a ref names a commit (by default git is asked; a history source asks once a scan)."""
    resolves = resolves or (lambda rev: _resolves(repo, rev))
    return next((rev for rev in ("refs/remotes/origin/HEAD", "HEAD") if resolves(rev)), None)


def object_count(repo: str) -> int:
    """How many objects the repository holds, packed and loose (`git count-objects -v`): a
    measure of how much a history scan will read, known before reading it."""
    counts = dict(line.split(": ", 1) for line in git(repo, "count-objects", "-v").decode().splitlines()
                  if ": " in line)
    return sum(int(counts.get(key, "0")) for key in ("count", "in-pack"))


def read_blob(repo: str, spec: str, limit: int) -> bytes | None:
    """The content of the blob `spec` (`HEAD:.radarignore`, `:.radarignore` for the index's), at
    most `limit` + 1 bytes (enough to tell it is over `limit`), or None when there is no such blob.

    Read no further: a settings file committed to the repository is its committer's input, and
    one of gigabytes must cost no more than one just over the limit."""
    proc = subprocess.Popen(["git", "-C", repo, "cat-file", "blob", spec],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    data = proc.stdout.read(limit + 1)  # type: ignore[union-attr]
    oversized = len(data) > limit
    if oversized:
        proc.kill()  # the rest is not wanted
    proc.stdout.close()  # type: ignore[union-attr]
    found = proc.wait() == 0 or oversized  # git fails when there is no such blob
    return data if found else None


def tip_file(repo: str, name: str, limit: int) -> tuple[str, bytes] | None:
    """The file `name` as committed at the default branch's tip (`file_at`), or None: the settings
    a bare repository holds for a scan of itself."""
    tip = default_tip(repo)
    return None if tip is None else file_at(repo, tip, name, limit)


def file_at(repo: str, tip: str, name: str, limit: int) -> tuple[str, bytes] | None:
    """The file `name` as committed at `tip` (`read_blob`, at most `limit` + 1 bytes), with its name
    as git spells it (`HEAD:.radarignore`), or None where there is none."""
    spec = f"{tip}:{name}"
    data = read_blob(repo, spec, limit)
    if data is None:  # no such file at the tip
        return None
    return spec.removeprefix("refs/remotes/"), data


class GitHistorySource(Source):
    def __init__(self, path: str, selection: RefSelection = RefSelection(), max_size: int = 10_000_000,
                 exclude: tuple[str, ...] = ()) -> None:
        self.repository = open_repository(path)
        self._resolved: dict[str, bool] = {}  # rev: whether it names a commit, asked once per scan
        self.selection = selection
        self.max_size = max_size
        self.exclude = exclude
        self._exclusions = Exclusions()
        self._excluded: dict[str, bool] = {}
        self.warnings = Warnings()
        self.unreadable: collections.Counter[str] = collections.Counter()
        self.skipped = 0
        self.commits: list[Commit] = []
        self.introductions: dict[str, list[Introduction]] = {}
        self.head_blobs: frozenset[str] = frozenset()
        self.head_ref: str | None = None
        self._collected = False
        # `--cache`: blobs an earlier scan with the same setup found clean are not read again.
        self.known_clean: Callable[[str, str], bool] | None = None
        self.cached = 0  # blobs skipped as known clean
        self.yielded: list[tuple[str, str]] = []  # (blob, path) of every unit handed out
        self._refs: list[str] | None = None  # the refs to walk, once start() has worked them out
        self._log: subprocess.Popen[bytes] | None = None  # git log, once started

    # -- the refs to walk ---------------------------------------------------------------------

    def refs(self) -> list[str]:
        if self.selection.branch:
            name = self.selection.branch
            for candidate in (f"refs/heads/{name}", f"refs/remotes/{name}", name):
                if self._resolves(candidate):
                    return [candidate]
            raise GitSourceError(f"no branch named {name!r} in {self.repo}")
        patterns = ["refs/heads", "refs/tags"]
        if self.selection.all_refs:
            patterns += ["refs/remotes", "refs/stash"]
        listed = []
        # Tags may point at trees or blobs (git.git has one); git log walks commits only.
        for line in git(self.repo, "for-each-ref", "--format=%(objecttype) %(*objecttype) %(refname)",
                        *patterns).decode().splitlines():
            kind, peeled, ref = line.split(" ", 2)
            if "commit" in (kind, peeled):
                listed.append(ref)
            else:
                self.warnings.append(f"{ref}: points at a {peeled or kind}, not a commit; not scanned")
        # A repository with commits but a detached HEAD and no branch still has HEAD.
        if self._resolves("HEAD"):
            listed.append("HEAD")
        return [ref for ref in listed if not ref.endswith("/HEAD") or ref == "HEAD"]

    @property
    def repo(self) -> str:
        return self.repository.top

    @property
    def prefix(self) -> str:
        return self.repository.prefix

    def _resolves(self, rev: str) -> bool:
        if rev not in self._resolved:
            self._resolved[rev] = _resolves(self.repo, rev)
        return self._resolved[rev]

    def _check_shallow(self) -> None:
        if self.repository.shallow:
            self.warnings.append(
                "shallow clone: commits before the shallow boundary are missing, so history is incomplete "
                "(run `git fetch --unshallow` first to scan all of it)"
            )

    # -- walking history ----------------------------------------------------------------------

    def start(self) -> None:
        """Work out the refs to walk and start `git log` on them, to be read by `collect()`. A scan
        calls this before building its engine and workers, so that git is under way meanwhile;
        `close()` stops a log that is never read."""
        if self._refs is not None:
            return
        refs = self.refs()
        since = []
        if refs and self.selection.since_commit:
            if not self._resolves(self.selection.since_commit):
                raise GitSourceError(f"--since-commit {self.selection.since_commit}: no such commit")
            since = [f"^{self.selection.since_commit}"]
        self._refs = refs  # not before: a start that failed fails again
        self._check_shallow()
        if not refs:
            self.warnings.append("the repository has no commits")
            return
        self._log = self._start_log(refs + since)

    def close(self) -> None:
        """Stop a `git log` that was started but not read to its end (the scan, or the walk, failed)."""
        proc, self._log = self._log, None
        if proc is not None:
            proc.kill()
            proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]

    def collect(self) -> None:
        """Read history: fill `commits`, `introductions` and `head_blobs`."""
        self.start()
        self._collected = True
        if self._log is None:
            return  # no commits
        self.head_ref = default_tip(self.repo, self._resolves)
        self._exclusions = Exclusions.of(("--exclude", self.exclude), self._ignore_file())
        if self.head_ref:
            self.head_blobs = frozenset(self._tree_blobs(self.head_ref))
        clock = time.monotonic()
        self._walk(self._log)
        self._log = None  # read to its end; until then a failed walk leaves it for close() to stop
        log.info("read history in %.1f s: %d ref(s), %d commit(s), %d unique blob(s) to scan",
                 time.monotonic() - clock, len(self._refs or ()), len(self.commits), len(self.introductions))

    def _ignore_file(self) -> tuple[str, list[str]]:
        """The scanned directory's .radarignore in the working tree, or the default tip's in a bare
        repository: where it is, and its lines."""
        if not self.repository.bare:
            file = Path(self.repo, self.prefix, IGNORE_FILE)
            return str(file), read_ignore_lines(file)
        found = file_at(self.repo, self.head_ref, IGNORE_FILE, MAX_IGNORE_FILE_BYTES) if self.head_ref else None
        if found is None:
            return f"{self.head_ref}:{IGNORE_FILE}", []
        return found[0], parse_ignore_lines(found[1], found[0])

    def excluded(self, path: str) -> bool:
        """`path` (from the scanned directory) is excluded by --exclude or .radarignore; remembered per path."""
        if not self._exclusions:
            return False
        known = self._excluded.get(path)
        if known is None:
            known = self._excluded[path] = self._exclusions.file_excluded(path)
        return known

    def _inside(self, path: str) -> str | None:
        """`path` (from the top of the repository) from the scanned directory, or None if outside it."""
        if not self.prefix:
            return path
        return path[len(self.prefix) + 1:] if path.startswith(self.prefix + "/") else None

    def _tree_blobs(self, rev: str) -> Iterator[str]:
        for entry in git(self.repo, "ls-tree", "-r", "-z", "--full-tree", rev).split(b"\0"):
            if entry:
                mode, kind, rest = entry.split(b" ", 2)
                blob, path = rest.split(b"\t", 1)
                inside = self._inside(path.decode("utf-8", "surrogateescape"))
                if kind == b"blob" and inside is not None and not self.excluded(inside):
                    yield blob.decode()

    def _start_log(self, revs: list[str]) -> subprocess.Popen[bytes]:
        fmt = f"--format={_COMMIT_MARK.decode()}%H%x00%an <%ae>%x00%cI%x00%ct%x00"
        command = ["git", *_LEAN_PACK_READING, "-C", self.repo, "log", "--raw", "-c", "--no-renames", "-z",
                   "--no-abbrev", "--no-color", "--no-ext-diff", "--no-textconv", fmt, *revs, "--"]
        if self.prefix:  # only this directory's history, with no side branch simplified away
            command.insert(command.index("log") + 1, "--full-history")
            command.append(f":(literal){self.prefix}")
        # Into a pipe git log flushes after every commit, and each flush wakes this process for a
        # few hundred bytes: 6,700 commits took 150 ms so against 108 ms fully buffered
        # (GIT_FLUSH=0), as fast as writing a file. The walk takes the stream as it comes.
        proc = _popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "GIT_FLUSH": "0"})
        try:
            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, _LOG_PIPE_SIZE)  # type: ignore[union-attr]
        except (OSError, AttributeError):
            pass  # not Linux, or a lower limit set there: the default pipe only means less head start
        return proc

    def _walk(self, proc: subprocess.Popen[bytes]) -> None:
        errors: list[bytes] = []
        drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
        drain.start()
        # What each path as git writes it comes to: its path from the scanned directory (None when
        # outside it) and whether it is excluded. A history names the same few thousand paths again
        # and again. Bytes are decoded only where kept: 6,700 commits' log read in 31-35 ms, was 37.
        paths: dict[bytes, tuple[str | None, bool]] = {}
        gitlinks: set[str] = set()
        commits, introductions = self.commits, self.introductions
        commit = -1
        tokens = _tokens(proc.stdout)  # type: ignore[arg-type]
        for token in tokens:
            entry = token.lstrip(b"\n")  # git puts a newline before a commit's first entry
            if entry[:1] == b":":
                raw_path = next(tokens)
                # `:mode... id... status`, one mode and one id per parent and one for the result
                fields = entry.split(b" ")
                parents = len(fields[0]) - len(fields[0].lstrip(b":"))
                blob = fields[2 * parents + 1].decode()
                if not blob.strip("0"):
                    continue  # deleted (the null id, of SHA-1 or SHA-256 length)
                known = paths.get(raw_path)
                if known is None:
                    known = paths[raw_path] = self._placed(raw_path.decode("utf-8", "surrogateescape"))
                path, excluded = known
                if path is None:
                    continue
                mode = fields[parents]
                if mode == GITLINK_MODE:
                    if path not in gitlinks:
                        gitlinks.add(path)
                        self.warnings.append(f"{path}: submodule (gitlink to {blob[:12]}), not followed")
                    continue
                if excluded or not (mode.startswith(b"10") or mode.startswith(b"12")):
                    continue
                found = introductions.get(blob)
                if found is None:
                    introductions[blob] = [Introduction(path, commit)]
                else:
                    found.append(Introduction(path, commit))
            elif entry.startswith(_COMMIT_MARK):
                commit_id = entry[len(_COMMIT_MARK):].decode()
                author, date, stamp = (next(tokens).decode("utf-8", "surrogateescape") for _ in range(3))
                commits.append(Commit(commit_id, author, date, int(stamp)))
                commit = len(commits) - 1
        proc.wait()
        drain.join()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        if proc.returncode != 0:
            raise _failed("git log", b"".join(errors), proc.returncode)

    def _placed(self, path: str) -> tuple[str | None, bool]:
        """`path` (from the top) from the scanned directory (None when outside it), and whether
        it is excluded there."""
        inside = self._inside(path)
        return inside, inside is not None and self.excluded(inside)

    # -- units --------------------------------------------------------------------------------

    def first_introduction(self, blob: str) -> Introduction:
        return min(self.introductions[blob], key=lambda i: (self.age(i.commit), i.path))

    def age(self, commit: int) -> tuple[int, int]:
        """Sort key, oldest first: committer date, then (for equal dates) git log's order, newest first."""
        return (self.commits[commit].timestamp, -commit)

    def units(self) -> Iterator[TextUnit]:
        if not self._collected:
            self.collect()
        blobs = list(self.introductions)
        if self.known_clean is not None:
            known = self.known_clean
            blobs = [b for b in blobs if not known(b, self.first_introduction(b).path)]
            self.cached = len(self.introductions) - len(blobs)
        for blob, line in zip(blobs, self._listing(blobs)):
            parts = line.split()
            first = self.first_introduction(blob)
            if len(parts) != 3 or parts[1] != "blob":
                self.could_not_read("blob", f"blob {blob} ({first.path}): missing or corrupt object, skipped")
                self.skipped += 1
                continue
            size = int(parts[2])
            if size > self.max_size:
                shown, limit = sizes_apart(size, self.max_size)
                self.warnings.append(
                    f"blob {blob} ({first.path}): skipped, {shown} is over the {limit} limit (--max-file-size)")
                self.skipped += 1
                continue
            commit = self.commits[first.commit]
            self.yielded.append((blob, first.path))
            yield GitBlobUnit(first.path, size, self.repo, blob,
                              Origin(commit=commit.id, author=commit.author, date=commit.date, blob=blob))

    def _listing(self, blobs: list[str]) -> Iterator[str]:
        """`git cat-file --batch-check` lines for `blobs`, in order, as git answers them.

        Streamed rather than read whole: the first units reach the workers while git still looks
        up the sizes of the rest (a third of a second on 17,000 blobs). `--buffer`: git answers in
        stdio-sized pieces, not a write per blob (13,595 blobs: 31 -> 18 ms); every id is written
        before the first answer is read, so none waits on a flush."""
        command = ["git", *_LEAN_PACK_READING, "-C", self.repo, "cat-file", "--buffer",
                   "--batch-check=%(objectname) %(objecttype) %(objectsize)"]
        proc = _popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def feed() -> None:
            try:
                for start in range(0, len(blobs), 4096):
                    proc.stdin.write("".join(f"{b}\n" for b in blobs[start:start + 4096]).encode())  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass  # git stopped early: its exit status says why

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        completed = False
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                yield line.decode()
            completed = True
        finally:
            if not completed:  # the scan stopped half-way: no more answers are wanted
                proc.kill()
            writer.join()
            errors = proc.stderr.read()  # type: ignore[union-attr]
            proc.wait()
        if proc.returncode != 0:
            raise _failed("git cat-file", errors, proc.returncode)


def _tokens(stream) -> Iterator[bytes]:
    """NUL-separated fields of a `git log -z` stream, as bytes (the walk decodes what it keeps)."""
    pending = b""
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        parts = (pending + chunk).split(b"\0")
        pending = parts.pop()
        yield from parts
    if pending.strip():
        yield pending


@dataclass(frozen=True)
class GitBlobUnit(TextUnit):
    path: str
    size: int
    repo: str
    blob: str
    origin: Origin = field(default_factory=Origin)
    noun = "blob"

    def read(self) -> bytes:
        return _reader(self.repo).read(self.blob)

    def announce(self) -> None:
        try:
            _reader(self.repo).request(self.blob)
        except UnitReadError:
            pass  # read() meets the same failure and reports it


class _ReaderStopped(UnitReadError):
    """The `cat-file` process ended while answering: it is gone, and what was pending with it."""


class BlobReader:
    """One `git cat-file --batch` process: blob ids in, contents out, for as long as it is needed.

    Requests are pipelined: a batch's ids are written before its first blob is read, so git
    inflates the next blob while this process scans the current one. Answers come in request
    order; `pending` is that order.

    git stops (`fatal: unable to stream ...`) at an object it cannot inflate, a corrupt loose
    object or pack entry whose header still reads. That blob is reported unreadable, and a new
    process is asked again for the blobs that were pending: the rest of the scan reads on.
    """

    def __init__(self, repo: str) -> None:
        self.repo = repo
        self.pending: collections.deque[str] = collections.deque()
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(["git", *_LEAN_PACK_READING, "-C", self.repo, "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def _restart(self) -> None:
        pending = list(self.pending)
        self.pending.clear()
        self.proc.kill()
        self.close()
        self._start()
        try:
            for blob in pending:
                self._write(blob)
                self.pending.append(blob)
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except OSError as e:
            raise UnitReadError(f"git cat-file stopped: {e.strerror}") from None

    def _write(self, blob: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(f"{blob}\n".encode())

    def request(self, blob: str) -> None:
        try:
            self._write(blob)
        except OSError:  # the process died (after a corrupt object): once more, with a new one
            self._restart()
            try:
                self._write(blob)
            except OSError as e:
                raise UnitReadError(f"git cat-file stopped: {e.strerror}") from None
        self.pending.append(blob)

    def read(self, blob: str) -> bytes:
        assert self.proc.stdin and self.proc.stdout
        if blob not in self.pending:
            self.request(blob)
        try:
            self.proc.stdin.flush()
        except OSError:  # the process died: a new one, asked again for all that is pending
            self._restart()
        while True:
            answered = self.pending.popleft()
            try:
                data = self._answer(answered)
            except _ReaderStopped:
                self._restart()
                if answered == blob:
                    raise
                continue  # that blob's own read() asks again, and reports it
            except UnitReadError:
                if answered == blob:
                    raise
                continue
            if answered == blob:
                return data

    def _answer(self, blob: str) -> bytes:
        assert self.proc.stdout
        line = self.proc.stdout.readline()
        if not line:
            raise _ReaderStopped(f"blob {blob}: git cat-file stopped before it (a corrupt object: `git fsck` names it)")
        header = line.split()
        if len(header) != 3 or header[1] != b"blob":
            raise UnitReadError(f"blob {blob} is missing or corrupt")
        size = int(header[2])
        data = self.proc.stdout.read(size)
        # The trailing newline is read on its own: cutting it off would copy the content.
        if len(data) != size or self.proc.stdout.read(1) != b"\n":
            raise _ReaderStopped(f"blob {blob} is corrupt: git could not inflate it (`git fsck` says more)")
        return data

    def close(self) -> None:
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self.proc.wait()


_readers: dict[tuple[int, str], BlobReader] = {}


def _reader(repo: str) -> BlobReader:
    # Keyed by process id: a forked worker must start its own process, not share its parent's pipe.
    key = (os.getpid(), repo)
    if key not in _readers:
        _readers[key] = BlobReader(repo)
    return _readers[key]


def close_readers() -> None:
    """Stop this process's cat-file processes (workers' ones end with their pipes)."""
    for (pid, repo), reader in list(_readers.items()):
        if pid == os.getpid():
            reader.close()
            del _readers[(pid, repo)]

