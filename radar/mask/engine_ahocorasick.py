"""pyahocorasick engine: the reference implementation and the fallback.

pyahocorasick is built for str keys, so bytes travel as latin-1 text (one code point per
byte, a lossless mapping). Caseless literals live in a second automaton run over the block with
ASCII letters lowered, which is what Hyperscan's caseless flag does.
"""

from __future__ import annotations

from typing import Sequence

import ahocorasick

from radar.mask.engine import Literal, Scan


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

    def __init__(self, literals: Sequence[Literal]) -> None:
        self._exact = _automaton([(lit.text, i) for i, lit in enumerate(literals) if not lit.caseless])
        self._folded = _automaton([(lit.text.lower(), i) for i, lit in enumerate(literals) if lit.caseless])

    def scanner(self) -> Scan:
        exact, folded = self._exact, self._folded

        def scan(data: bytes) -> list[tuple[int, int]]:
            hits: list[tuple[int, int]] = []
            if exact is not None:
                hits.extend((ident, last + 1) for last, ident in exact.iter(data.decode("latin-1")))
            if folded is not None:
                hits.extend((ident, last + 1) for last, ident in folded.iter(data.lower().decode("latin-1")))
            return hits

        return scan
