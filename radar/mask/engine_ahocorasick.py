"""pyahocorasick engine: the reference implementation and the fallback.

pyahocorasick is built for str keys, so bytes travel as latin-1 text (one code point per
byte, a lossless mapping). Caseless literals live in a second automaton run over the block with
ASCII letters lowered, which is what Hyperscan's caseless flag does. Expression needles run
through Python's `re`.
"""

from __future__ import annotations

import re
from typing import Sequence

import ahocorasick

from radar.mask.engine import Needle, Scan


def _automaton(entries: list[tuple[bytes, int]]) -> ahocorasick.Automaton | None:
    if not entries:
        return None
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for text, ident in entries:  # texts are unique: the pattern table deduplicates them
        automaton.add_word(text.decode("latin-1"), ident)
    automaton.make_automaton()
    return automaton


class AhoCorasickMatcher:
    name = "ahocorasick"

    def __init__(self, needles: Sequence[Needle]) -> None:
        literals = [(n, i) for i, n in enumerate(needles) if not n.regex]
        folded = [(n.text.lower(), i) for n, i in literals if n.caseless]
        self._exact = _automaton([(n.text, i) for n, i in literals if not n.caseless])
        self._folded = _automaton(folded)
        # The caseless literals (sensitive query keys) start with ? or &, which most blocks of a
        # CI log hardly contain: lowering and scanning only the stretches after them saves a
        # pass over every block (a sixth of this engine's time with 10 secrets). Starts that
        # are letters would fold, and then every block is lowered whole.
        starts = {text[:1] for text, _ in folded}
        self._folded_starts = tuple(starts) if starts and not any(s.isalpha() or not s for s in starts) else ()
        self._folded_reach = max((len(text) for text, _ in folded), default=0)
        self._expressions = [
            (re.compile(n.text, re.IGNORECASE if n.caseless else 0), n.gate, i) for i, n in enumerate(needles) if n.regex
        ]

    def scanner(self) -> Scan:
        exact, folded, expressions = self._exact, self._folded, self._expressions
        starts, reach = self._folded_starts, self._folded_reach

        def scan(data: bytes) -> list[tuple[int, int]]:
            hits: list[tuple[int, int]] = []
            if exact is not None:
                hits.extend((ident, last + 1) for last, ident in exact.iter(data.decode("latin-1")))
            if folded is not None:
                for low, high in _folded_stretches(data, starts, reach):
                    text = data[low:high].lower().decode("latin-1")
                    hits.extend((ident, low + last + 1) for last, ident in folded.iter(text))
            for expression, gate, ident in expressions:
                if gate in data:  # b"" is in every block
                    hits.extend((ident, match.end()) for match in expression.finditer(data))
            return hits

        return scan


def _folded_stretches(data: bytes, starts: tuple[bytes, ...], reach: int) -> list[tuple[int, int]]:
    """The parts of `data` a caseless literal can lie in: `reach` bytes from each of its possible
    first bytes, merged; the whole block when there are no such starts or very many."""
    if not starts:
        return [(0, len(data))]
    count = sum(data.count(start) for start in starts)
    if count * reach * 4 > len(data):
        return [(0, len(data))] if count else []
    positions = sorted(i for start in starts for i in _find_all(data, start))
    stretches: list[tuple[int, int]] = []
    for i in positions:
        if stretches and i <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], min(len(data), i + reach))
        else:
            stretches.append((i, min(len(data), i + reach)))
    return stretches


def _find_all(data: bytes, byte: bytes) -> list[int]:
    found, i = [], data.find(byte)
    while i >= 0:
        found.append(i)
        i = data.find(byte, i + 1)
    return found
