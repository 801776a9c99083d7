"""Hyperscan (Vectorscan) engine: short windows of the literals in one database (for thousands
of them: up to three, compiled while the forms are still being worked out, or two and the whole
literals in a third), gated expressions in another.

Hyperscan's compile time grows faster than the number of literals (measured with the forms of
the throughput benchmark's secrets: 1,000 literals 13 ms, 8,000 158 ms, 11,000 250 ms), and a
job with 1,000 secrets registers about 11 literals per secret. So an exact literal is looked
for by a WINDOW-byte window, its head or its tail: literals that share a window share one
database entry (the hex of every `ghp_` token starts `6768705f`), which leaves fewer and
shorter entries to compile (8,270 instead of 11,150 there, in about half the time). Each hit of
a window is checked whole in Python, by one dict lookup per length of the literals behind it,
so a literal is reported exactly where the whole of it lies in the block, as a full-length
entry would be.

A window costs a Python call wherever it occurs without its literal, so it must be rare in a
log: it is the head when that looks like part of a token (a digit, or letters of both cases),
else the tail (`https://hooks...` and `postgres://...` start the way every URL in a log starts,
and end in their secret part), else the literal is entered whole (`correct horse battery`; up
to _WHOLE_UP_TO bytes). Such calls are at most one per byte of input.

Databases are compiled for Hyperscan's vectored mode and scanned as a one-buffer vector. Block
mode also builds engines for inputs of a few dozen bytes, whose compile grows about five times
faster than the literals from a few hundred of them to ~1,450 (the 1,000 benchmark secrets'
windows: 1,300 of them 84 ms in block mode, 17 ms vectored; 2,500 30 and 26 ms): 150 secrets
took 0.1 s to set up in block mode where 200 took 35 ms. Vectored scans of large blocks are as
fast; a line of output costs ~0.1 us more.

With several databases, a large block's passes are shared with a helper thread (the binding lets
go of the GIL while it scans): each pass over 48 MB of log costs 10-17 ms.
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import Callable, Iterable

import hyperscan

from radar.mask.engine import Needle, Scan
from radar.threads import DaemonThreads, Outcome, outcome_of, value_of


WINDOW = 8
_DIGITS = b"0123456789"
# Above this many windows they go into two databases: compile time grows faster than the
# entries, so two halves compile in less time than the whole (the 1,000 benchmark secrets' 8,229
# windows: 125-135 ms as one, 98-118 ms as two, medians of 5 over several runs). The second
# database costs a scan: 5-7 ms more per 48 MB of log.
SPLIT_ABOVE = 4000
# Each time this many windows have come, up to LAUNCHES times, they start compiling on a thread
# (the binding lets go of the GIL) while the forms of the other secrets are still being worked
# out; the rest compile on another while the stream's tables are built. The last compile is
# what the set-up waits for: the 1,000 benchmark secrets' 5,216 windows as 2,500 + 2,716 took
# 100-106 ms in-process, as 1,750 + 1,750 + 1,716 89-92 ms; each database is one more pass over
# every block (scanned beside the others on a helper thread, see scanner()).
LAUNCH_AT = 1750
LAUNCHES = 2
# A block at least this large, with at least this many passes, has its passes shared with the
# helper thread. Handing work over costs tens of microseconds, what a pass over ~100 KB costs;
# and the helper competes for a core with the command whose output is masked. Piping 48 MB of
# log through `radar mask` into `cat` (medians of 11-15 runs): with two passes (10 secrets: the
# literals and the URL expression) 118 ms helped against 109 alone, with five (1,000 secrets)
# 216 against 231.
PARALLEL_FROM = 256 << 10
HELPED_FROM_PASSES = 3
# Database ids at and above this are needle idents (of literals entered whole, and expressions)
# plus this; below it, windows.
_DIRECT = 1 << 30
# A literal without a rare window is entered whole up to this length (Hyperscan takes literals
# below 16 KiB, escaped ones below about 4 KiB); a longer one is looked for by its head anyway.
_WHOLE_UP_TO = 256


def _database(entries: list[tuple[bytes, int, int]], literal: bool) -> hyperscan.Database | None:
    """One database of (text, id, flags) entries; `literal`: pure literals, no escaping (but
    cut at a NUL byte, see HyperscanMatcher)."""
    if not entries:
        return None
    texts, ids, flags = zip(*entries)
    database = hyperscan.Database(mode=hyperscan.HS_MODE_VECTORED)
    database.compile(expressions=list(texts), ids=list(ids), flags=list(flags), literal=literal)
    return database


def _flags(needle: Needle) -> int:
    return hyperscan.HS_FLAG_CASELESS if needle.caseless else 0


def _escaped(text: bytes) -> bytes:
    """An expression matching exactly the bytes of `text`, each one escaped."""
    return b"".join(b"\\x%02x" % byte for byte in text)


# For one window: its distance from the literals' start when it is their head (None: their
# tail), and (length, {literal of that length: needle ident}) for each length behind it.
_Candidates = tuple[int | None, tuple[tuple[int, dict[bytes, int]], ...]]


def _candidates(head: int | None, group: list[tuple[bytes, int]]) -> _Candidates:
    """The literals (text, needle ident) behind one window, by length: a hit costs one lookup
    per length, however many literals share the window."""
    if len(group) == 1:  # most windows
        text, ident = group[0]
        return head, ((len(text), {text: ident}),)
    by_length: dict[int, dict[bytes, int]] = {}
    for text, ident in group:
        by_length.setdefault(len(text), {})[text] = ident
    return head, tuple(by_length.items())


def _rare(window: bytes) -> bool:
    """Whether `window` looks like part of a token or a number rather than like words: it has a
    digit or letters of both cases (`xY3kQ9`, `6768705f`; not `https://`, `postgres`). Runs of
    digits are common in logs, but any one of them is not."""
    return len(window.translate(None, _DIGITS)) != len(window) or window.upper() != window != window.lower()


def _ends_in_a_run(text: bytes) -> bool:
    return text[-3:] == text[-1:] * 3


class _Compiling:
    """A literal database compiling on a thread of its own."""

    def __init__(self, entries: list[tuple[bytes, int, int]]) -> None:
        # Windows with a NUL byte are few: the expression database takes them (see HyperscanMatcher).
        self.with_nul = [entry for entry in entries if b"\0" in entry[0]]
        self._entries = [entry for entry in entries if b"\0" not in entry[0]] if self.with_nul else entries
        self._outcome: Outcome = (None, None)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._outcome = outcome_of(lambda: _database(self._entries, literal=True))

    def result(self) -> hyperscan.Database | None:
        self._thread.join()
        return value_of(self._outcome)  # type: ignore[return-value]


class HyperscanMatcher:
    name = "hyperscan"

    def __init__(self, needles: Iterable[Needle], meanwhile: Callable[[], None] = lambda: None) -> None:
        # Database ids: i for the i-th window of exact literals (checked whole), _DIRECT + ident
        # for caseless literals and expressions (reported as they are).
        windows: dict[tuple[bytes, bool], list[tuple[bytes, int]]] = {}  # (window, is head): literals
        whole: list[tuple[bytes, int, int]] = []  # (text, id, flags) of the literals looked for whole
        # Gated expressions (a URL password needs an `@`) apart from ungated ones (a wrapping line
        # break), which would otherwise make the gated ones run over every block too.
        expressions: list[tuple[bytes, int, int]] = []
        always: list[tuple[bytes, int, int]] = []
        gates: set[bytes] = set()
        compiling: list[_Compiling] = []
        for ident, needle in enumerate(needles):
            if needle.regex:
                (expressions if needle.gate else always).append((needle.text, _DIRECT + ident, _flags(needle)))
                if needle.gate:
                    gates.add(needle.gate)
                continue
            text = needle.text
            if len(text) <= WINDOW:
                key = (text, True)
            elif _rare(text[:WINDOW]) or len(text) > _WHOLE_UP_TO:
                key = (text[:WINDOW], True)
            elif _rare(text[-WINDOW:]):
                key = (text[-WINDOW:], False)
            else:
                key = None
            if needle.caseless or key is None:  # caseless: the sensitive query keys, a few dozen
                whole.append((text, _DIRECT + ident, _flags(needle)))
                continue
            group = windows.get(key)
            if group is None:
                windows[key] = [(text, ident)]
                if len(windows) % LAUNCH_AT == 0 and len(compiling) < LAUNCHES:
                    launched = len(compiling) * LAUNCH_AT
                    keys = itertools.islice(windows, launched, None)
                    compiling.append(_Compiling([(window, launched + i, 0) for i, (window, _) in enumerate(keys)]))
            else:
                group.append((text, ident))
        entries = [(window, index, 0) for index, (window, _) in enumerate(windows)][len(compiling) * LAUNCH_AT :]
        # With thousands of windows, literals longer than a window (entered whole) and caseless
        # ones (the query keys) go into a database of their own: among those windows they made
        # the compile much slower (the 1,000 benchmark secrets' 8,229 windows: 115 ms alone,
        # 164 ms with the 40 query keys). With fewer windows they cost little there (866 windows:
        # 11.3 ms apart, 11.5 ms together) and a database apart would cost a pass over every
        # block (10 secrets over 48 MB: 0.1165 s instead of 0.112 s); except a whole literal that
        # ends in a run of one byte (a PEM armour line, `-----BEGIN PRIVATE KEY-----`): any such
        # one made a PEM key's 382 windows compile in 23 ms instead of 5, so those go apart.
        # On threads, the rest of the windows and the whole literals make one database (2,716
        # windows and the 40 query keys: 30 ms to compile either way, and one pass fewer over
        # every block, 3-5 ms per 48 MB).
        apart = [entry for entry in whole if len(entry[0]) > WINDOW and _ends_in_a_run(entry[0])]
        if compiling:
            compiling.append(_Compiling(entries + [entry for entry in whole if entry not in apart]))
            parts = [apart]
        elif len(entries) + len(whole) > SPLIT_ABOVE:
            parts = [entries[0::2], entries[1::2], whole]
        else:
            whole += entries  # windows are WINDOW bytes long: none of them is apart
            parts = [[entry for entry in whole if entry not in apart], apart] if apart else [whole]
        # Each window's literals, grouped by length at its first hit: most windows never hit,
        # and grouping 5,216 of them up front cost start-up ~4 ms of Python.
        self._windows = list(windows.items())
        # The binding measures pure literals with strlen(): one with a NUL byte would be cut at
        # it. Those few go to the expression database instead, escaped, gated on the NUL they
        # can only match at (windows among them too: see _Compiling).
        with_nul = [entry for running in compiling for entry in running.with_nul]
        for part in parts:
            with_nul += [entry for entry in part if b"\0" in entry[0]]
            part[:] = [entry for entry in part if b"\0" not in entry[0]]
        if with_nul:
            expressions += [(_escaped(text), ident, flags) for text, ident, flags in with_nul]
            gates.add(b"\0")
        built = [_database(part, literal=True) for part in parts]
        self._expressions = _database(expressions, literal=False)
        self._gates = tuple(gates)
        self._always = _database(always, literal=False)
        meanwhile()
        built += [running.result() for running in compiling]
        self._literals = tuple(database for database in built if database is not None)

    def scanner(self) -> Scan:
        windows = self._windows
        candidates: dict[int, _Candidates] = {}  # per stream: scanners never share a dict being written
        literals = self._literals + ((self._always,) if self._always is not None else ())  # every block
        passes = [(database, hyperscan.Scratch(database)) for database in literals]
        gates = self._gates
        gated = (self._expressions, hyperscan.Scratch(self._expressions)) if self._expressions is not None else None

        def scan_passes(chosen: list[_Pass], data: bytes) -> list[tuple[int, int]]:
            """The hits of `chosen` passes over `data`, pass after pass."""
            hits: list[tuple[int, int]] = []

            def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
                if ident >= _DIRECT:
                    hits.append((ident - _DIRECT, end))
                    return
                behind = candidates.get(ident)
                if behind is None:
                    (window, is_head), group = windows[ident]
                    behind = candidates[ident] = _candidates(len(window) if is_head else None, group)
                head, by_length = behind
                for length, texts in by_length:
                    start = end - (length if head is None else head)
                    if start >= 0:
                        found = texts.get(data[start : start + length])
                        if found is not None:
                            hits.append((found, start + length))

            for database, scratch in chosen:
                database.scan([data], match_event_handler=on_match, scratch=scratch)
            return hits

        def scan(data: bytes) -> list[tuple[int, int]]:
            if not data:
                return []
            chosen = passes + [gated] if gated is not None and any(g in data for g in gates) else passes
            helper = _helper() if len(chosen) >= HELPED_FROM_PASSES and len(data) >= PARALLEL_FROM else None
            if helper is None:
                return scan_passes(chosen, data)
            # This thread has the block's Python work still to do: it takes the smaller share.
            mine = len(chosen) // 2
            theirs = helper.start(lambda: scan_passes(chosen[mine:], data))
            try:
                own = scan_passes(chosen[:mine], data)
            except BaseException:
                # Not before the helper is done with its scratch spaces: a caller that goes on
                # would otherwise scan with one of them while the helper still does.
                try:
                    theirs()
                except BaseException:
                    pass  # this thread's error is the one to raise
                raise
            return own + theirs()

        return scan


_Pass = tuple[hyperscan.Database, hyperscan.Scratch]


_helpers: list[DaemonThreads | None] = []
_helpers_lock = threading.Lock()  # any thread may be the first to ask


def _helper() -> DaemonThreads | None:
    """The helper thread, started at the first large block, for every stream; None on one CPU."""
    with _helpers_lock:
        if not _helpers:
            _helpers.append(DaemonThreads(1, "radar-scan") if len(os.sched_getaffinity(0)) > 1 else None)
        return _helpers[0]
