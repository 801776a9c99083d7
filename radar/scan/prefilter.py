"""The keyword prefilter: where in a text does any rule's keyword (or decode trigger) occur.

`KeywordIndex(words)` maps lower-case ASCII literals to the roles they stand for (rule indices,
decode triggers) and answers `hits(text)`: (offset of the keyword's last character, roles) for
every case-insensitive occurrence, in text order. Two interchangeable engines give identical
answers: Hyperscan (Vectorscan), which scans the UTF-8 bytes at several hundred MB/s, and
pyahocorasick, which walks the lower-cased characters at about 40 MB/s and is used when the
`hyperscan` package cannot be imported. Byte offsets are turned back into character offsets by
decoding the stretches between hits; keywords are ASCII, so a hit never ends inside a character.

Hyperscan can also look for `patterns`: expressions (in its syntax, `^` at every line start, word
characters ASCII only, case mattering unless they say `(?i)`) that narrow down where an expensive
rule can match, so that Python never sees the many places where it cannot. Their hits come with the
keywords' and, like them, give the offset of the match's last character, which must be ASCII. The
Aho-Corasick engine has no patterns, and an index given none or one that Hyperscan refuses reports
none (`patterns_supported` is false): the caller works from the keywords alone.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import threading
from array import array
from typing import Iterator, Mapping, Sequence

import ahocorasick

from radar.scan.cache_files import cache_path, store_cached

try:
    import hyperscan
except ImportError:  # no wheel for this platform: pyahocorasick does the same job, slower
    hyperscan = None

# How every database here is compiled, stored and loaded back: the three must agree.
_MODE = hyperscan.HS_MODE_BLOCK if hyperscan is not None else None

_LOWER = {c: c + 32 for c in range(65, 91)}

Hit = tuple[int, tuple[int, ...]]


class KeywordIndex:
    def __init__(self, roles: Mapping[str, tuple[int, ...]], engine: str | None = None,
                 patterns: Mapping[str, tuple[int, ...]] | None = None) -> None:
        self._words = sorted(roles)  # a stable order: the compiled database is cached by it
        self._roles = [tuple(roles[w]) for w in self._words]
        self.engine = engine or ("hyperscan" if hyperscan is not None else "ahocorasick")
        # Whether hits() reports the patterns: only when they have a database of their own, not
        # when none were given (the engine's callers then work from the keywords alone, as with
        # Aho-Corasick), nor when Hyperscan refused one (the keywords still work).
        self.patterns_supported = False
        if self.engine == "hyperscan":
            expressions = sorted(patterns or {})
            self._databases = _cached_databases(self._words, expressions)
            self.patterns_supported = len(self._databases) > 1
            if self.patterns_supported:
                self._roles += [tuple(patterns[e]) for e in expressions]  # type: ignore[index]
            self._scratches = None
        else:
            self._automaton = ahocorasick.Automaton()
            for i, word in enumerate(self._words):
                self._automaton.add_word(word, i)
            self._automaton.make_automaton()

    def hits(self, text: str, data: bytes | None = None) -> Iterator[Hit]:
        """The hits, in text order, as they are read: a text can hold millions of them, which are
        not kept in a list here as well as in the caller's tables. `data`, when given, is `text`
        encoded as UTF-8: the bytes it was decoded from, which Hyperscan then scans without
        encoding the text again."""
        if self.engine == "hyperscan":
            return self._hyperscan_hits(text, data)
        lowered = text.lower() if text.isascii() else text.translate(_LOWER)
        roles = self._roles
        return ((end, roles[i]) for end, i in self._automaton.iter(lowered))

    def _hyperscan_hits(self, text: str, data: bytes | None) -> Iterator[Hit]:
        if data is None:
            data = text.encode("utf-8", "surrogatepass")
        # Each report is one integer, end offset then id, in a typed array: 8 bytes a hit where a
        # tuple of two integers took 90.
        shift = len(self._roles).bit_length()
        found = array("q")
        report = found.append

        def on_match(ident: int, start: int, end: int, flags: int, context: object) -> None:
            report(end << shift | ident)

        if self._scratches is None:  # per process: a forked worker must not share its parent's
            self._scratches = [hyperscan.Scratch(database) for database in self._databases]
        runs = 0
        for database, scratch in zip(self._databases, self._scratches):
            reported = len(found)
            database.scan(data, match_event_handler=on_match, scratch=scratch)
            runs += len(found) > reported
        # Two databases that both reported give two runs, which sorting merges (Timsort finds the
        # runs: linear); one run is checked first, as Hyperscan does not promise to report in order
        # of end offset (it nearly always does).
        if runs > 1 or not all(map(operator.le, found, itertools.islice(found, 1, None))):
            found = array("q", sorted(found))
        return self._decoded_offsets(found, shift, text, data)

    def _decoded_offsets(self, found: array, shift: int, text: str, data: bytes) -> Iterator[Hit]:
        """Hyperscan's hits with byte offsets turned into offsets in `text`."""
        roles = self._roles
        mask = (1 << shift) - 1
        if len(data) == len(text):
            for code in found:
                yield (code >> shift) - 1, roles[code & mask]
            return
        byte_pos = char_pos = 0
        for code in found:
            end = code >> shift
            char_pos += len(data[byte_pos:end].decode("utf-8", "surrogatepass"))
            byte_pos = end
            yield char_pos - 1, roles[code & mask]

    def __getstate__(self) -> dict:
        # Hyperscan's scratch space cannot cross a process boundary; the database can.
        state = dict(self.__dict__)
        if self.engine == "hyperscan":
            state["_databases"] = [hyperscan.dumpb(database) for database in self._databases]
            state["_scratches"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        if state["engine"] == "hyperscan":
            state["_databases"] = [hyperscan.loadb(d, _MODE) for d in state["_databases"]]
        self.__dict__.update(state)


def _cached_databases(words: list[str], patterns: Sequence[str] = ()) -> list["hyperscan.Database"]:
    """The literals' database (ids from 0) and, if there are patterns and Hyperscan compiles them
    all, the patterns' (ids after the literals'), each loaded from where it was kept last time.

    Two databases, not one: a fresh CI runner has neither, and compiling the ~26,000 literals and
    ~570 patterns together took 1.3 s on one core, where the two compile side by side (Hyperscan
    lets go of the GIL) in ~0.5 s; scanning with both costs ~20% more than with one (0.22 against
    0.18 s for 150 MB), a few hundredths of a large scan. Each is kept in $XDG_CACHE_HOME/radar
    (default ~/.cache/radar), named by a hash of what it holds and Hyperscan's version; any
    problem with the cache just means compiling again.
    """
    jobs = [_Compile("keywords", words, 0, literal=True)]
    if patterns:
        jobs.append(_Compile("patterns", list(patterns), len(words), literal=False))
    pending = [job for job in jobs if not job.load()]
    if len(pending) > 1:  # both missing: one on a thread, one here
        thread = threading.Thread(target=pending[0].compile_and_store, daemon=True)
        thread.start()
        pending[1].compile_and_store()
        thread.join()
    elif pending:
        pending[0].compile_and_store()
    if pending:
        _give_back_freed_memory()
    for job in jobs:
        # A pattern Hyperscan rejects leaves the keywords to work alone; anything else (a keyword
        # it cannot take, a failure on the thread) is raised here, in the caller's thread.
        if job.error is not None and (job.literal or not isinstance(job.error, hyperscan.error)):
            raise job.error
    return [job.database for job in jobs if job.database is not None]


def _give_back_freed_memory() -> None:
    """Return the heap a compile freed to the system (glibc keeps it otherwise): Hyperscan's compile
    peaks at ~170 MB, and the scan's workers, forked after it, would each start that large."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory stays with the process
        pass


class _Compile:
    """One database: loaded from the cache, or compiled (on whichever thread) and stored there."""

    def __init__(self, kind: str, items: list[str], first_id: int, literal: bool) -> None:
        self.items, self.first_id, self.literal = items, first_id, literal
        key = [str(getattr(hyperscan, "__version__", "")), kind, str(first_id), *items]
        self.path = cache_path(f"{kind}-{hashlib.sha256(chr(0).join(key).encode()).hexdigest()[:32]}.hsdb")
        self.database: "hyperscan.Database | None" = None
        self.error: Exception | None = None

    def load(self) -> bool:
        try:
            self.database = hyperscan.loadb(self.path.read_bytes(), _MODE)
            return True
        except Exception:  # missing, truncated or from another build: compile afresh
            return False

    def compile_and_store(self) -> None:
        try:
            database = compile_database(self.items, self.first_id, self.literal)
        except Exception as e:  # kept for the calling thread, which decides (`_cached_databases`)
            self.error = e
            return
        self.database = database
        store_cached(self.path, hyperscan.dumpb(database))


def compile_database(items: Sequence[str], first_id: int = 0, literal: bool = False) -> "hyperscan.Database":
    """Keywords (`literal`: matched in any case) or patterns (`^` at every line start), with ids
    from `first_id`, as the index scans with them; hyperscan.error for one Hyperscan refuses."""
    database = hyperscan.Database(mode=_MODE)
    flag = hyperscan.HS_FLAG_CASELESS if literal else hyperscan.HS_FLAG_MULTILINE
    database.compile(expressions=[item.encode("utf-8") for item in items],
                     ids=list(range(first_id, first_id + len(items))), flags=[flag] * len(items), literal=literal)
    return database


def literal(text: str) -> str:
    """A Hyperscan expression that matches `text` as it is: ASCII letters and digits stay, every
    other byte of its UTF-8 is escaped (so no character can mean anything else)."""
    return "".join(chr(b) if b < 128 and chr(b).isalnum() else f"\\x{b:02x}" for b in text.encode("utf-8"))
