"""The contract between sources of text and the scanner.

A source (a directory, git history, GitLab variables) yields `TextUnit`s: a path to
report, `Origin` extras (commit, author, variable key, ...) and a `read()` that returns the bytes.
Units are pickled to worker processes, so they carry how to read their data, not the data itself
(unless, like a GitLab variable, the data is all they are). `read()` raises `UnitReadError` with
a message fit for a warning line.

What a scan was asked to read and could not (a file it may not open, a corrupt git object, a
project the token may not read) makes it incomplete: radar names each in a warning, writes the
report, and exits 2, so that "nothing found" always means nothing was found. What a documented
policy leaves out (over --max-file-size, binary, excluded, symbolic links, submodules) does not.
"""

from __future__ import annotations

import abc
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from radar.scan.findings import Origin
from radar.scan.warnings import Warnings


class UnitReadError(Exception):
    """A unit's data could not be read; the message says why (never its content)."""


class UnitSkipped(UnitReadError):
    """A unit left out when it came to be read, by policy: it grew over --max-file-size, or is no
    longer a regular file. A warning, not an incomplete scan."""


class TextUnit(abc.ABC):
    path: str
    size: int
    origin: Origin
    noun = "file"  # what a unit is, in "scan incomplete: 2 files could not be read"

    @abc.abstractmethod
    def read(self) -> bytes: ...

    def announce(self) -> None:
        """Called for each unit of a batch before the first is read, so that a source can ask for
        all of them at once (git blobs from one `cat-file` stream); by default nothing."""


@dataclass(frozen=True)
class MemoryUnit(TextUnit):
    """Text already in memory (a CI variable's value, standard input, a test's input)."""

    path: str
    data: bytes = field(repr=False)
    origin: Origin = field(default_factory=Origin)

    @property
    def size(self) -> int:  # type: ignore[override]
        return len(self.data)

    def read(self) -> bytes:
        return self.data


class Source(abc.ABC):
    """Yields the units to scan; problems met on the way are appended to `warnings` (a `Warnings`,
    which says a repeated message once and keeps memory bounded, or a plain list)."""

    warnings: Warnings | list[str]
    skipped: int = 0  # units left out (too large, unreadable), each with a warning
    unreadable: Counter[str]  # what could not be read, by noun (directory, blob, project, ...)

    @abc.abstractmethod
    def units(self) -> Iterator[TextUnit]: ...

    def could_not_read(self, noun: str, warning: str) -> None:
        """Note an item the scan was asked to read and could not; `warning` names it and says why."""
        self.warnings.append(warning)
        self.unreadable[noun] += 1
