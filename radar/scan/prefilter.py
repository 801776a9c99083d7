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

import contextlib
import hashlib
import itertools
import operator
import os
from array import array
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import ahocorasick

try:
    import hyperscan
except ImportError:  # no wheel for this platform: pyahocorasick does the same job, slower
    hyperscan = None

_LOWER = {c: c + 32 for c in range(65, 91)}

Hit = tuple[int, tuple[int, ...]]


class KeywordIndex:
    def __init__(self, roles: Mapping[str, tuple[int, ...]], engine: str | None = None,
                 patterns: Mapping[str, tuple[int, ...]] | None = None) -> None:
        self._words = sorted(roles)  # a stable order: the compiled database is cached by it
        self._roles = [tuple(roles[w]) for w in self._words]
        self.engine = engine or ("hyperscan" if hyperscan is not None else "ahocorasick")
        # Whether hits() reports the patterns: not when none were given (the engine's callers then
        # work from the keywords alone, as with Aho-Corasick), nor when Hyperscan refused one.
        self.patterns_supported = self.engine == "hyperscan" and bool(patterns)
        if self.engine == "hyperscan":
            expressions = sorted(patterns or {})
            try:
                self._database = _cached_database(self._words, expressions)
                self._roles += [tuple(patterns[e]) for e in expressions]  # type: ignore[index]
            except hyperscan.error:  # an expression Hyperscan rejects: the keywords still do
                self._database = _cached_database(self._words)
                self.patterns_supported = False
            self._scratch = None
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

        if self._scratch is None:  # per process: a forked worker must not share its parent's
            self._scratch = hyperscan.Scratch(self._database)
        self._database.scan(data, match_event_handler=on_match, scratch=self._scratch)
        # Hyperscan does not promise to report in order of end offset (it nearly always does).
        if not all(map(operator.le, found, itertools.islice(found, 1, None))):
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
            state["_database"] = hyperscan.dumpb(self._database)
            state["_scratch"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        if state["engine"] == "hyperscan":
            state["_database"] = hyperscan.loadb(state["_database"], hyperscan.HS_MODE_BLOCK)
        self.__dict__.update(state)


def _cached_database(words: list[str], patterns: Sequence[str] = ()) -> "hyperscan.Database":
    """Compile the literals (ids from 0) and patterns (ids after them), or load the database
    compiled for the same ones last time.

    Compiling ~12,000 literals takes about 0.3 s, a tenth of a large scan; the serialised database
    is kept in $XDG_CACHE_HOME/radar (default ~/.cache/radar), named by a hash of the words,
    patterns and Hyperscan version. Any problem with the cache just means compiling again.
    """
    key = [str(getattr(hyperscan, "__version__", "")), *words, *(["\1patterns", *patterns] if patterns else [])]
    digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:32]
    cache = cache_path(f"keywords-{digest}.hsdb")
    try:
        return hyperscan.loadb(cache.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except Exception:  # missing, truncated or from another build: compile afresh
        pass
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    if patterns:
        # One database cannot mix Hyperscan's literal and expression interfaces: the literals
        # become expressions, every byte escaped.
        expressions = [literal(w).encode() for w in words] + [p.encode("utf-8") for p in patterns]
        flags = [hyperscan.HS_FLAG_CASELESS] * len(words) + \
            [hyperscan.HS_FLAG_MULTILINE] * len(patterns)
        database.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags)
    else:
        database.compile(
            expressions=[w.encode("utf-8") for w in words], ids=list(range(len(words))),
            flags=[hyperscan.HS_FLAG_CASELESS] * len(words), literal=True,
        )
    store_cached(cache, hyperscan.dumpb(database))
    return database


def literal(text: str) -> str:
    """A Hyperscan expression that matches `text` as it is: ASCII letters and digits stay, every
    other byte of its UTF-8 is escaped (so no character can mean anything else)."""
    return "".join(chr(b) if b < 128 and chr(b).isalnum() else f"\\x{b:02x}" for b in text.encode("utf-8"))


def cache_path(name: str) -> Path:
    """Where radar keeps `name` between runs: $XDG_CACHE_HOME/radar (default ~/.cache/radar)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "radar" / name


def store_cached(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to the cache file `path` whole (a reader never sees it half written), with
    permission bits `mode` (less the umask) from its creation, or not at all: a cache that cannot
    be written only means working it out again next time."""
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
