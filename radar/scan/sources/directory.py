"""A directory tree (or one file) as text units.

The walk skips `.git/`, paths left out by `--exclude` and the `.radarignore` at the scan's root
(gitignore syntax, see `sources.ignore`), paths `.gitignore` leaves out inside a git work tree
(asked of git, see `sources.gitignore`; unless `gitignore=False`), special files (FIFOs, sockets,
devices) and, by default, symbolic links. With `follow_symlinks`, a directory reached twice (a
symlink loop) is walked once, with a warning. Files over `max_file_size` are skipped with a
warning. A directory that cannot be listed, or an entry that cannot be looked at, is a warning
that makes the scan incomplete (`Source.could_not_read`), as is a file that cannot be read.
Reading happens later, in the worker that scans the file.

Paths are reported as `prefix` + the path from the walk's root: a scan of several paths walks
each below one report root (see `sources.paths`), and exclusion patterns see that full path.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from radar.scan.findings import Origin
from radar.scan.sources.gitignore import GitIgnored, ask_git
from radar.scan.sources.ignore import Exclusions
from radar.scan.sources.interface import Source, TextUnit, UnitReadError, UnitSkipped
from radar.scan.warnings import Warnings
from radar.sizes import human_size, sizes_apart

log = logging.getLogger("radar.scan")  # -v: each path left out, and why
ALWAYS_SKIPPED = frozenset({".git"})


@dataclass(frozen=True)
class FileUnit(TextUnit):
    path: str
    absolute: str
    size: int
    max_size: int
    follow_symlinks: bool = False
    origin: Origin = field(default_factory=Origin)

    def read(self) -> bytes:
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) * (not self.follow_symlinks)
        try:
            fd = os.open(self.absolute, flags)
        except OSError as e:
            if e.errno == errno.ELOOP and not self.follow_symlinks:  # became a link: skipped as links are
                raise UnitSkipped("now a symbolic link") from None
            raise UnitReadError(_reason(e)) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UnitSkipped("no longer a regular file")
            data = _read_upto(fd, self.max_size + 1, st.st_size + 1)
        except OSError as e:
            raise UnitReadError(_reason(e)) from None
        finally:
            os.close(fd)
        if len(data) > self.max_size:
            raise UnitSkipped(f"grew over the {human_size(self.max_size)} limit while being read")
        return data


def _read_upto(fd: int, limit: int, expected: int) -> bytes:
    """At most `limit` bytes of `fd`, read in pieces of the size the file had (`expected`): a
    buffered `read(limit)` set aside the whole limit (10 MB) for each file, which made reading a
    tree of small files 40 % slower."""
    parts = []
    got = 0
    while got < limit:
        part = os.read(fd, min(limit - got, max(expected, 65536)))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _reason(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


@dataclass(frozen=True)
class _Scope:
    """The work tree a part of the walk is in: what git says it ignores, relative to `base`."""

    ignored: GitIgnored | None
    base: str  # the path, from the walk's root, of the directory git was asked about ("" for the root)

    def ignores(self, rel: str, is_dir: bool) -> bool:
        if self.ignored is None:
            return False
        return self.ignored.ignored(rel[len(self.base) + 1:] if self.base else rel, is_dir)


class DirectorySource(Source):
    def __init__(self, root: str | os.PathLike[str], exclusions: Exclusions = Exclusions(),
                 max_file_size: int = 10_000_000, follow_symlinks: bool = False, gitignore: bool = False,
                 prefix: str = "", match_prefix: str | None = None) -> None:
        self.root = Path(root)
        self.max_file_size = max_file_size
        self.follow_symlinks = follow_symlinks
        self.gitignore = gitignore
        self.prefix = prefix.rstrip("/") + "/" if prefix else ""
        # What exclusion patterns see before the path from the root (by default what is reported).
        self.match_prefix = self.prefix if match_prefix is None else (match_prefix.rstrip("/") + "/" if match_prefix else "")
        self.warnings = Warnings()
        self.unreadable: Counter[str] = Counter()
        self.skipped = 0
        self.exclusions = exclusions

    def units(self) -> Iterator[TextUnit]:
        if self.root.is_file():
            # The user named this file: follow it even when it is a symbolic link.
            unit = self._unit(self.root, self.prefix[:-1] or self.root.name, os.stat(self.root), follow=True)
            if unit is not None:
                yield unit
            return
        seen_dirs: set[tuple[int, int]] = set()
        root_stat = os.stat(self.root)
        seen_dirs.add((root_stat.st_dev, root_stat.st_ino))
        stack = [(self.root, "", self._scope(self.root, ""))]
        while stack:
            directory, relative, scope = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as e:
                self.could_not_read("directory", f"{self.prefix}{relative or '.'}: cannot list directory: {_reason(e)}")
                continue
            if relative and self.gitignore and any(e.name == ".git" for e in entries):
                scope = self._scope(Path(directory), relative)  # a nested repository or a submodule
            subdirs = []
            for entry in entries:
                rel = f"{relative}/{entry.name}" if relative else entry.name
                try:
                    is_link = entry.is_symlink()
                    if is_link and not self.follow_symlinks:
                        log.info("%s: skipped, a symbolic link (--follow-symlinks follows links)", rel)
                        self.skipped += 1
                        continue
                    st = entry.stat(follow_symlinks=True)
                except OSError as e:
                    self.could_not_read("file", f"{self.prefix}{rel}: cannot stat: {_reason(e)}")
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if entry.name in ALWAYS_SKIPPED or self._excluded(rel, True, scope):
                        log.info("%s/: skipped, %s", rel, "git's own data" if entry.name in ALWAYS_SKIPPED
                                 else "excluded (--exclude, .radarignore or .gitignore)")
                        continue
                    identity = (st.st_dev, st.st_ino)
                    if identity in seen_dirs:
                        if is_link:
                            self.warnings.append(f"{self.prefix}{rel}: symbolic link loop (or second link to a "
                                                 "scanned directory); not followed")
                        continue
                    seen_dirs.add(identity)
                    subdirs.append((Path(entry.path), rel, scope))
                elif stat.S_ISREG(st.st_mode):
                    if self._excluded(rel, False, scope):
                        log.info("%s: skipped, excluded (--exclude, .radarignore or .gitignore)", rel)
                        continue
                    unit = self._unit(entry.path, self.prefix + rel, st)  # no Path per file: the walk's costliest step
                    if unit is not None:
                        yield unit
                else:
                    log.info("%s: skipped, not a regular file (a FIFO, socket or device)", rel)
                    self.skipped += 1
            stack.extend(reversed(subdirs))

    def _scope(self, directory: Path, relative: str) -> _Scope:
        if not self.gitignore:
            return _Scope(None, relative)
        ignored, warning = ask_git(directory)
        if warning:
            self.warnings.append(warning)
        return _Scope(ignored, relative)

    def _unit(self, path: Path | str, rel: str, st: os.stat_result, follow: bool = False) -> FileUnit | None:
        if st.st_size > self.max_file_size:
            size, limit = sizes_apart(st.st_size, self.max_file_size)
            self.warnings.append(f"{rel}: skipped, {size} is over the {limit} limit (--max-file-size)")
            self.skipped += 1
            return None
        return FileUnit(rel, str(path), st.st_size, self.max_file_size, follow or self.follow_symlinks)

    def _excluded(self, rel: str, is_dir: bool, scope: _Scope) -> bool:
        return self.exclusions.excluded(self.match_prefix + rel, is_dir) or scope.ignores(rel, is_dir)
