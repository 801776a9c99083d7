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
        self._exact = _automaton([(n.text, i) for n, i in literals if not n.caseless])
        self._folded = _automaton([(n.text.lower(), i) for n, i in literals if n.caseless])
        self._expressions = [
            (re.compile(n.text, re.IGNORECASE if n.caseless else 0), n.gate, i) for i, n in enumerate(needles) if n.regex
        ]

    def scanner(self) -> Scan:
        exact, folded, expressions = self._exact, self._folded, self._expressions

        def scan(data: bytes) -> list[tuple[int, int]]:
            hits: list[tuple[int, int]] = []
            if exact is not None:
                hits.extend((ident, last + 1) for last, ident in exact.iter(data.decode("latin-1")))
            if folded is not None:
                hits.extend((ident, last + 1) for last, ident in folded.iter(data.lower().decode("latin-1")))
            for expression, gate, ident in expressions:
                if gate in data:  # b"" is in every block
                    hits.extend((ident, match.end()) for match in expression.finditer(data))
            return hits

        return scan
