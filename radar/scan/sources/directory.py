"""A directory tree (or one file) as text units.

The walk skips `.git/`, paths matched by `--exclude` globs or by the root's `.radarignore` (one
glob a line, `#` comments; a glob without `/` matches a name at any depth, one with `/` the path
from the root, a trailing `/` only directories), special files (FIFOs, sockets, devices) and, by
default, symbolic links. With `follow_symlinks`, a directory reached twice (a symlink loop) is
walked once, with a warning. Files over `max_file_size` are skipped with a warning. A directory
that cannot be listed, or an entry that cannot be looked at, is a warning that makes the scan
incomplete (`Source.could_not_read`), as is a file that cannot be read. Reading happens later, in
the worker that scans the file.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from radar.scan.findings import Origin
from radar.sizes import human_size, sizes_apart
from radar.scan.sources.interface import Source, TextUnit, UnitReadError, UnitSkipped
from radar.scan.warnings import Warnings

IGNORE_FILE = ".radarignore"
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
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UnitSkipped("no longer a regular file")
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read(self.max_size + 1)
        except OSError as e:
            raise UnitReadError(_reason(e)) from None
        finally:
            os.close(fd)
        if len(data) > self.max_size:
            raise UnitSkipped(f"grew over the {human_size(self.max_size)} limit while being read")
        return data


def _reason(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


class DirectorySource(Source):
    def __init__(self, root: str | os.PathLike[str], exclude: tuple[str, ...] = (),
                 max_file_size: int = 10_000_000, follow_symlinks: bool = False) -> None:
        self.root = Path(root)
        self.max_file_size = max_file_size
        self.follow_symlinks = follow_symlinks
        self.warnings = Warnings()
        self.unreadable: Counter[str] = Counter()
        self.skipped = 0
        self._globs = list(exclude) + read_ignore_file(self.root / IGNORE_FILE)

    def units(self) -> Iterator[TextUnit]:
        if self.root.is_file():
            # The user named this file: follow it even when it is a symbolic link.
            unit = self._unit(self.root, self.root.name, os.stat(self.root), follow=True)
            if unit is not None:
                yield unit
            return
        seen_dirs: set[tuple[int, int]] = set()
        root_stat = os.stat(self.root)
        seen_dirs.add((root_stat.st_dev, root_stat.st_ino))
        stack = [(self.root, "")]
        while stack:
            directory, relative = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as e:
                self.could_not_read("directory", f"{relative or '.'}: cannot list directory: {_reason(e)}")
                continue
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
                    self.could_not_read("file", f"{rel}: cannot stat: {_reason(e)}")
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if entry.name in ALWAYS_SKIPPED or self._excluded(rel, True):
                        log.info("%s/: skipped, %s", rel, "git's own data" if entry.name in ALWAYS_SKIPPED
                                 else "excluded (--exclude or .radarignore)")
                        continue
                    identity = (st.st_dev, st.st_ino)
                    if identity in seen_dirs:
                        if is_link:
                            self.warnings.append(f"{rel}: symbolic link loop (or second link to a scanned directory); not followed")
                        continue
                    seen_dirs.add(identity)
                    subdirs.append((Path(entry.path), rel))
                elif stat.S_ISREG(st.st_mode):
                    if self._excluded(rel, False):
                        log.info("%s: skipped, excluded (--exclude or .radarignore)", rel)
                        continue
                    unit = self._unit(Path(entry.path), rel, st)
                    if unit is not None:
                        yield unit
                else:
                    log.info("%s: skipped, not a regular file (a FIFO, socket or device)", rel)
                    self.skipped += 1
            stack.extend(reversed(subdirs))

    def _unit(self, path: Path, rel: str, st: os.stat_result, follow: bool = False) -> FileUnit | None:
        if st.st_size > self.max_file_size:
            size, limit = sizes_apart(st.st_size, self.max_file_size)
            self.warnings.append(f"{rel}: skipped, {size} is over the {limit} limit (--max-file-size)")
            self.skipped += 1
            return None
        return FileUnit(rel, str(path), st.st_size, self.max_file_size, follow or self.follow_symlinks)

    def _excluded(self, rel: str, is_dir: bool) -> bool:
        return excluded(rel, is_dir, self._globs)


def excluded(rel: str, is_dir: bool, globs: list[str]) -> bool:
    """`rel` (a path from the root, `/`-separated) itself matches one of the exclude globs."""
    name = rel.rsplit("/", 1)[-1]
    for glob in globs:
        if glob.endswith("/"):
            if not is_dir:
                continue
            glob = glob[:-1]
        target = rel if "/" in glob.lstrip("/") else name
        if fnmatch.fnmatchcase(target, glob.lstrip("/")):
            return True
    return False


def file_excluded(rel: str, globs: list[str]) -> bool:
    """The file at `rel` would not be scanned by a walk: it, or a directory above it, is excluded."""
    if not globs:
        return False
    parts = rel.split("/")
    return excluded(rel, False, globs) or any(
        excluded("/".join(parts[:i]), True, globs) for i in range(1, len(parts)))


def read_ignore_file(path: Path) -> list[str]:
    try:
        return parse_ignore_file(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []


def parse_ignore_file(text: str) -> list[str]:
    """The globs of a `.radarignore`: one a line, blank lines and `#` comments left out."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
