"""The contract between sources of text and the scanner.

A source (a directory, git history, GitLab variables) yields `TextUnit`s: a path to
report, `Origin` extras (commit, author, variable key, ...) and a `read()` that returns the bytes.
Units are pickled to worker processes, so they carry how to read their data, not the data itself
(unless, like a GitLab variable, the data is all they are). `read()` raises `UnitReadError` with
a message fit for a warning line.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Iterator

from radar.scan.findings import Origin


class UnitReadError(Exception):
    """A unit's data could not be read; the message says why (never its content)."""


class TextUnit(abc.ABC):
    path: str
    size: int
    origin: Origin

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
    """Yields the units to scan; problems met on the way are appended to `warnings`."""

    warnings: list[str]
    skipped: int = 0  # units left out (too large, unreadable), each with a warning

    @abc.abstractmethod
    def units(self) -> Iterator[TextUnit]: ...
