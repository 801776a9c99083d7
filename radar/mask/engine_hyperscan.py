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
        literal=literal,  # the pure-literal compiler takes any byte, NUL included, unescaped
    )
    return database


def _as_expression(needle: Needle) -> Needle:
    """A literal as an expression matching exactly its bytes, each one escaped."""
    return Needle(b"".join(b"\\x%02x" % byte for byte in needle.text), needle.caseless, regex=True, gate=b"\0")


class HyperscanMatcher:
    name = "hyperscan"

    def __init__(self, needles: Sequence[Needle]) -> None:
        # The binding measures pure literals with strlen(): one with a NUL byte would be cut at it
        # (matching its head alone, with the whole length). Those few go to the expression
        # database instead, escaped, gated on the NUL they can only match at.
        self._literals = _database(
            [(i, n) for i, n in enumerate(needles) if not n.regex and b"\0" not in n.text], literal=True
        )
        expressions = [(i, n) for i, n in enumerate(needles) if n.regex]
        expressions += [(i, _as_expression(n)) for i, n in enumerate(needles) if not n.regex and b"\0" in n.text]
        self._expressions = _database(expressions, literal=False)
        gates = {n.gate for _, n in expressions}
        # Any ungated expression means the expression pass always runs.
        self._gates: tuple[bytes, ...] | None = None if b"" in gates else tuple(gates)

    def scanner(self) -> Scan:
        literals, expressions, gates = self._literals, self._expressions, self._gates
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
            return hits

        return scan
