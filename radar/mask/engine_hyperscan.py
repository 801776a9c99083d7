"""Hyperscan (Vectorscan) engine: all literals in one block-mode database."""

from __future__ import annotations

from typing import Sequence

import hyperscan

from radar.mask.engine import Literal, Scan


class HyperscanMatcher:
    name = "hyperscan"

    def __init__(self, literals: Sequence[Literal]) -> None:
        self._database: hyperscan.Database | None = None
        if literals:
            database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            database.compile(
                expressions=[lit.text for lit in literals],
                ids=list(range(len(literals))),
                flags=[hyperscan.HS_FLAG_CASELESS if lit.caseless else 0 for lit in literals],
                literal=True,  # the pure-literal compiler: any byte, NUL included, no escaping
            )
            self._database = database

    def scanner(self) -> Scan:
        database = self._database
        if database is None:
            return lambda data: []
        scratch = hyperscan.Scratch(database)

        def scan(data: bytes) -> list[tuple[int, int]]:
            hits: list[tuple[int, int]] = []
            if data:
                database.scan(
                    data,
                    match_event_handler=lambda ident, start, end, flags, context: hits.append((ident, end)),
                    scratch=scratch,
                )
            return hits

        return scan
