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


def _database(entries: list[tuple[bytes, int, int]], literal: bool) -> hyperscan.Database | None:
    """One database of (text, id, flags) entries; `literal`: pure literals, no escaping (but
    cut at a NUL byte, see HyperscanMatcher)."""
    if not entries:
        return None
    texts, ids, flags = zip(*entries)
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=list(texts), ids=list(ids), flags=list(flags), literal=literal)
    return database


def _flags(needle: Needle) -> int:
    return hyperscan.HS_FLAG_CASELESS if needle.caseless else 0


def _escaped(text: bytes) -> bytes:
    """An expression matching exactly the bytes of `text`, each one escaped."""
    return b"".join(b"\\x%02x" % byte for byte in text)


# For one head: (length, {literal of that length: needle ident}) for each length behind it.
_Candidates = tuple[tuple[int, dict[bytes, int]], ...]


def _candidates(group: list[tuple[bytes, int]]) -> _Candidates:
    """The literals (text, needle ident) behind one head, by length: a hit costs one lookup per
    length, however many literals share the head (the hex of every `ghp_` token)."""
    if len(group) == 1:  # most heads
        text, ident = group[0]
        return ((len(text), {text: ident}),)
    by_length: dict[int, dict[bytes, int]] = {}
    for text, ident in group:
        by_length.setdefault(len(text), {})[text] = ident
    return tuple(by_length.items())


class HyperscanMatcher:
    name = "hyperscan"

    def __init__(self, needles: Sequence[Needle]) -> None:
        # Database ids: needle idents for caseless literals and expressions (reported as they
        # are), len(needles) + i for the i-th head of exact literals (checked whole).
        base = len(needles)
        heads: dict[bytes, list[tuple[bytes, int]]] = {}
        whole: list[tuple[bytes, int, int]] = []  # (text, id, flags) of the literals looked for whole
        expressions = [(n.text, i, _flags(n)) for i, n in enumerate(needles) if n.regex]
        gates = {n.gate for n in needles if n.regex}
        for ident, needle in enumerate(needles):
            if needle.regex:
                continue
            if needle.caseless:  # the sensitive query keys: a few dozen
                whole.append((needle.text, ident, _flags(needle)))
                continue
            group = heads.get(needle.text[:HEAD])
            if group is None:
                heads[needle.text[:HEAD]] = [(needle.text, ident)]
            else:
                group.append((needle.text, ident))
        self._base = base
        self._candidates: list[_Candidates] = [_candidates(group) for group in heads.values()]
        whole += [(head, base + index, 0) for index, head in enumerate(heads)]
        # The binding measures pure literals with strlen(): one with a NUL byte would be cut at
        # it. Those few go to the expression database instead, escaped, gated on the NUL they
        # can only match at.
        with_nul = [entry for entry in whole if b"\0" in entry[0]]
        if with_nul:
            whole = [entry for entry in whole if b"\0" not in entry[0]]
            expressions += [(_escaped(text), ident, flags) for text, ident, flags in with_nul]
            gates.add(b"\0")
        self._literals = _database(whole, literal=True)
        self._expressions = _database(expressions, literal=False)
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
