"""Several paths given on the command line (files, directories, `-` for standard input) as one source.

This is what `radar scan a.py src/ -` and a pre-commit hook (which passes the names of the files
being committed) scan. Every finding's path is the path as given (normalised: `./a//b` is `a/b`;
a directory's files are below it, `src/app.py`), so it reads as the user typed it and as git and
pre-commit print it; the report's root is the current directory. `-` is reported as `-`.

A path given twice, or a path inside a directory that is also given, is scanned once, as part of
that directory. `--exclude` and the `.radarignore` of the current directory apply to the paths
as given relative to it (a pattern with a `/` in it anchors at the current directory), to named
files and directories as well as to what the directories hold: a hook's file names then obey
the project's `.radarignore`. A path outside the current directory is matched from its own start instead.
A directory is walked as in a one-directory scan (`.gitignore` honoured, unless
`--no-gitignore`); a file named explicitly is scanned even if `.gitignore` matches it.

Standard input is read here, in this process, up to `max_file_size` bytes: more is a warning and
the input is not scanned (as with a file over the limit; radar stops reading there).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import BinaryIO, Iterator

from radar.errors import RadarError
from radar.scan.sources.directory import DirectorySource
from radar.scan.sources.ignore import Exclusions
from radar.scan.sources.interface import MemoryUnit, Source, TextUnit

STDIN = "-"


class PathsError(RadarError):
    """A given path that cannot be scanned at all; the message names it."""


class PathsSource(Source):
    def __init__(self, paths: list[str], exclusions: Exclusions = Exclusions(), max_file_size: int = 10_000_000,
                 follow_symlinks: bool = False, gitignore: bool = True, stdin: BinaryIO | None = None) -> None:
        self.paths = paths
        self.exclusions = exclusions
        self.max_file_size = max_file_size
        self.follow_symlinks = follow_symlinks
        self.gitignore = gitignore
        self.stdin = stdin
        self.warnings: list[str] = []
        self.unreadable: Counter[str] = Counter()
        self.skipped = 0
        self._planned = plan(paths)

    def units(self) -> Iterator[TextUnit]:
        for shown, path in self._planned:
            if path is None:
                yield from self._stdin()
                continue
            # Patterns match the path from the current directory, or from its own start if outside it.
            matched = shown if _inside_here(shown) and shown != "." else ""
            if path.is_file() and self.exclusions.file_excluded(matched or path.name):
                continue
            if path.is_dir() and matched and self.exclusions.directory_excluded(matched):
                continue
            walk = DirectorySource(path, self.exclusions, self.max_file_size, self.follow_symlinks, self.gitignore,
                                   prefix="" if shown == "." else shown, match_prefix=matched)
            yield from walk.units()  # a named file is followed even if it is a link: it was named
            self.warnings.extend(walk.warnings)
            self.unreadable.update(walk.unreadable)
            self.skipped += walk.skipped

    def _stdin(self) -> Iterator[TextUnit]:
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        data = stream.read(self.max_file_size + 1)
        if len(data) > self.max_file_size:
            self.warnings.append(f"{STDIN}: standard input skipped, it is over the {self.max_file_size / 1e6:g} MB "
                                 "limit (--max-file-size)")
            self.skipped += 1
            return
        yield MemoryUnit(STDIN, data)


def plan(paths: list[str]) -> list[tuple[str, Path | None]]:
    """(path as shown, path to read; None for standard input) for each path to scan, once; a path
    that does not exist or is neither a file nor a directory is a PathsError naming it."""
    shown_paths: list[tuple[str, Path | None, str]] = []
    seen: set[str] = set()
    for given in paths:
        if given == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                shown_paths.append((STDIN, None, STDIN))
            continue
        path = Path(given)
        if not path.exists():
            raise PathsError(f"{given}: no such file or directory")
        if not (path.is_dir() or path.is_file()):
            raise PathsError(f"{given}: not a directory or a regular file (use - for standard input)")
        real = os.path.realpath(given)
        if real in seen:
            continue
        seen.add(real)
        shown_paths.append((_shown(given), path, real))
    directories = [real for _, path, real in shown_paths if path is not None and path.is_dir()]
    return [(shown, path) for shown, path, real in shown_paths
            if path is None or not any(real.startswith(d.rstrip(os.sep) + os.sep) for d in directories if d != real)]


def _shown(given: str) -> str:
    """`given`, normalised and `/`-separated: `./a//b/` is `a/b`, `.` stays `.`."""
    return os.path.normpath(given).replace(os.sep, "/")


def _inside_here(shown: str) -> bool:
    return not (shown.startswith("/") or shown == ".." or shown.startswith("../"))

