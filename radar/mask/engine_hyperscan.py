"""Hyperscan (Vectorscan) engine: literals in one database, gated expressions in another."""

from __future__ import annotations

from typing import Callable, Sequence

import hyperscan

from radar.mask.engine import Needle, Scan

_Handler = Callable[[int, int, int, int, object], None]


def _database(needles: list[tuple[int, Needle]], literal: bool) -> hyperscan.Database | None:
    if not needles:
        return None
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[n.text for _, n in needles],
        ids=[i for i, _ in needles],
        flags=[hyperscan.HS_FLAG_CASELESS if n.caseless else 0 for _, n in needles],
        literal=literal,  # pure literals: no escaping (but cut at a NUL byte, see HyperscanMatcher)
    )
    return database


def _as_expression(needle: Needle) -> Needle:
    """A literal as an expression matching exactly its bytes, each one escaped."""
    return Needle(b"".join(b"\\x%02x" % byte for byte in needle.text), needle.caseless, regex=True, gate=b"\0")


# Hyperscan refuses a literal of 16 KiB or more, and an expression of about 16,000 characters
# (4 per byte of an escaped literal). A longer literal (the hex of an 8 KiB secret file, or an
# in-band registration that long) is looked for by its head and checked whole at each hit: the
# head of a secret's form is about as rare in a log as the form.
_LONGEST_LITERAL = 8192
_LONGEST_ESCAPED = 1024


class HyperscanMatcher:
    name = "hyperscan"

    def __init__(self, needles: Sequence[Needle]) -> None:
        # The binding measures pure literals with strlen(): one with a NUL byte would be cut at it
        # (matching its head alone, with the whole length). Those few go to the expression
        # database instead, escaped, gated on the NUL they can only match at.
        literals: list[tuple[int, Needle]] = []
        expressions: list[tuple[int, Needle]] = []
        self._heads: dict[int, tuple[int, Needle]] = {}  # ident: (head length, whole literal)
        for ident, needle in enumerate(needles):
            if needle.regex:
                expressions.append((ident, needle))
                continue
            escaped = b"\0" in needle.text
            longest = _LONGEST_ESCAPED if escaped else _LONGEST_LITERAL
            if len(needle.text) > longest:
                self._heads[ident] = (longest, needle)
                needle = Needle(needle.text[:longest], needle.caseless)
            if escaped:
                expressions.append((ident, _as_expression(needle)))
            else:
                literals.append((ident, needle))
        self._literals = _database(literals, literal=True)
        self._expressions = _database(expressions, literal=False)
        gates = {n.gate for _, n in expressions}
        # Any ungated expression means the expression pass always runs.
        self._gates: tuple[bytes, ...] | None = None if b"" in gates else tuple(gates)

    def scanner(self) -> Scan:
        literals, expressions, gates, heads = self._literals, self._expressions, self._gates, self._heads
        literal_scratch = hyperscan.Scratch(literals) if literals is not None else None
        expression_scratch = hyperscan.Scratch(expressions) if expressions is not None else None

        def scan(data: bytes) -> list[tuple[int, int]]:
            hits: list[tuple[int, int]] = []
            if not data:
                return hits

            def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
                hits.append((ident, end))

            if literals is not None:
                literals.scan(data, match_event_handler=on_match, scratch=literal_scratch)
            if expressions is not None and (gates is None or any(g in data for g in gates)):
                expressions.scan(data, match_event_handler=on_match, scratch=expression_scratch)
            return _whole_hits(hits, heads, data) if heads else hits

        return scan


def _whole_hits(
    hits: list[tuple[int, int]], heads: dict[int, tuple[int, Needle]], data: bytes
) -> list[tuple[int, int]]:
    """The hits with each head hit of a long literal replaced by the literal's end, or dropped."""
    found = []
    for ident, end in hits:
        if ident in heads:
            length, whole = heads[ident]
            start = end - length
            piece = data[start : start + len(whole.text)]
            if (piece.lower() == whole.text.lower()) if whole.caseless else piece == whole.text:
                found.append((ident, start + len(whole.text)))
        else:
            found.append((ident, end))
    return found
