"""A scan's warnings, each said once: the same message is one line with a count, in bounded memory.

A history scan reads every version of a file, so one file that is not UTF-8 used to give one
warning per blob: hundreds of identical `CHANGES: not valid UTF-8` lines. `Warnings` counts equal
messages instead, in each worker's batch and again when the scanner merges the batches, and
`lines()` says each once: `CHANGES: not valid UTF-8; scanned as Latin-1 (in 214 blobs)`.

A hostile tree or history can still produce millions of *different* messages (a million files
over --max-file-size), so at most `limit` distinct messages are kept, and the rest only counted:
`lines()` ends with `52,114 more warnings not listed`. The messages kept are the first `limit`
in sort order, not in arrival order, so the listed lines do not depend on which worker finished
first. Keeping them costs amortised O(log n) per message: the table grows to twice the limit,
then is cut back to the limit, and whatever sorts after the last message kept is only counted.
"""

from __future__ import annotations

from typing import Iterable, Iterator

MAX_LISTED = 1000

_PLURALS = {"directory": "directories"}


def counted(n: int, noun: str) -> str:
    """`1 file`, `2 files`, `3 directories`."""
    return f"{n:,} {noun if n == 1 else _PLURALS.get(noun, noun + 's')}"


class Warnings:
    """Distinct warning messages, how often each was said, and what for (`blob`: `in 214 blobs`).

    Sources append to it like a list (`append`, `extend`); iterating gives `lines()`.
    """

    def __init__(self, limit: int = MAX_LISTED) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._nouns: dict[str, str] = {}
        self._ceiling: str | None = None  # once cut back: messages sorting after it are only counted
        self.unlisted = 0  # warnings said but not kept (beyond `limit` distinct messages)

    def add(self, message: str, noun: str = "", count: int = 1) -> None:
        """Note `message`, said `count` times, each for a unit called `noun` (or "" for none)."""
        if message in self._counts:
            self._counts[message] += count
            return
        if self._ceiling is not None and message > self._ceiling:
            self.unlisted += count
            return
        self._counts[message] = count
        if noun:
            self._nouns[message] = noun
        if len(self._counts) >= 2 * self.limit:
            self._cut()

    def _cut(self) -> None:
        kept = sorted(self._counts)[: self.limit]
        self._ceiling = kept[-1]
        for message in self._counts.keys() - set(kept):
            self.unlisted += self._counts.pop(message)
            self._nouns.pop(message, None)

    def append(self, message: str) -> None:
        self.add(message)

    def extend(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.add(message)

    def merge(self, other: Warnings) -> None:
        for message, count in other._counts.items():
            self.add(message, other._nouns.get(message, ""), count)
        self.unlisted += other.unlisted

    def lines(self) -> list[str]:
        """Each message once, in sort order, with how often it was said when more than once."""
        kept = sorted(self._counts)[: self.limit]
        unlisted = self.unlisted + sum(self._counts[m] for m in self._counts.keys() - set(kept))
        lines = [self._line(message) for message in kept]
        if unlisted:
            lines.append(f"{counted(unlisted, 'more warning')} not listed "
                         f"(the first {self.limit:,} distinct ones are, in sort order)")
        return lines

    def _line(self, message: str) -> str:
        count = self._counts[message]
        if count == 1:
            return message
        noun = self._nouns.get(message)
        return f"{message} (in {counted(count, noun)})" if noun else f"{message} ({count:,} times)"

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines())

    def __len__(self) -> int:
        return len(self.lines())


def listed(warnings: Warnings | Iterable[str]) -> list[str]:
    """The lines of `warnings`: a `Warnings`, or any list of messages (a source's own)."""
    if not isinstance(warnings, Warnings):
        messages, warnings = warnings, Warnings()
        warnings.extend(messages)
    return warnings.lines()
