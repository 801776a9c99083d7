"""Hyperscan (Vectorscan) engine: literal heads in one database, gated expressions in another.

Hyperscan's compile time grows faster than the number of literals (measured with the forms of
the throughput benchmark's secrets: 1,000 literals 13 ms, 8,000 158 ms, 11,000 250 ms), and a
job with 1,000 secrets registers about 11 literals per secret. So an exact literal is looked
for by its first HEAD bytes: literals that share them (the hex of every `ghp_` token starts
`6768705f`) share one database entry, which also leaves fewer and shorter entries to compile
(8,100 instead of 11,150 there, compiled in half the time). Each hit of a head is checked
whole in Python, by one dict lookup per length of the literals behind that head, so a literal
is reported exactly where the whole of it lies in the block, as a full-length entry would be.
Hits of a head without its literal cost a Python call each; they are at most one per byte.
"""

from __future__ import annotations

from typing import Callable, Sequence

import hyperscan

from radar.mask.engine import Needle, Scan

_Handler = Callable[[int, int, int, int, object], None]

HEAD = 8


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


# For one head: (length, {literal of that length: needle ident}) for each length behind it.
_Candidates = tuple[tuple[int, dict[bytes, int]], ...]


class HyperscanMatcher:
    name = "hyperscan"

    def __init__(self, needles: Sequence[Needle]) -> None:
        # Database ids: needle idents for caseless literals and expressions (reported as they
        # are), len(needles) + i for the i-th head of exact literals (checked whole).
        entries: list[tuple[int, Needle]] = []
        expressions: list[tuple[int, Needle]] = []
        heads: dict[bytes, dict[int, dict[bytes, int]]] = {}
        for ident, needle in enumerate(needles):
            if needle.regex:
                expressions.append((ident, needle))
            elif needle.caseless:  # the sensitive query keys: a few dozen, each whole
                if b"\0" in needle.text:
                    expressions.append((ident, _as_expression(needle)))
                else:
                    entries.append((ident, needle))
            else:
                heads.setdefault(needle.text[:HEAD], {}).setdefault(len(needle.text), {})[needle.text] = ident
        self._base = len(needles)
        self._candidates: list[_Candidates] = []
        for index, (head, by_length) in enumerate(heads.items()):
            self._candidates.append(tuple(by_length.items()))
            # The binding measures pure literals with strlen(): one with a NUL byte would be cut
            # at it. Those few go to the expression database instead, escaped, gated on the NUL
            # they can only match at.
            if b"\0" in head:
                expressions.append((self._base + index, _as_expression(Needle(head))))
            else:
                entries.append((self._base + index, Needle(head)))
        self._literals = _database(entries, literal=True)
        self._expressions = _database(expressions, literal=False)
        gates = {n.gate for _, n in expressions}
        # Any ungated expression means the expression pass always runs.
        self._gates: tuple[bytes, ...] | None = None if b"" in gates else tuple(gates)

    def scanner(self) -> Scan:
        literals, expressions, gates = self._literals, self._expressions, self._gates
        base, candidates = self._base, self._candidates
        literal_scratch = hyperscan.Scratch(literals) if literals is not None else None
        expression_scratch = hyperscan.Scratch(expressions) if expressions is not None else None

        def scan(data: bytes) -> list[tuple[int, int]]:
            hits: list[tuple[int, int]] = []
            if not data:
                return hits

            def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
                if ident < base:
                    hits.append((ident, end))
                    return
                start = end - HEAD  # a head is HEAD bytes long, or the whole (shorter) literal
                for length, texts in candidates[ident - base]:
                    if length <= HEAD:
                        hits.append((texts[data[end - length : end]], end))
                    else:
                        found = texts.get(data[start : start + length])
                        if found is not None:
                            hits.append((found, start + length))

            if literals is not None:
                literals.scan(data, match_event_handler=on_match, scratch=literal_scratch)
            if expressions is not None and (gates is None or any(g in data for g in gates)):
                expressions.scan(data, match_event_handler=on_match, scratch=expression_scratch)
            return hits

        return scan
