"""The matcher interface: many byte literals, every occurrence, in one pass.

The stream masker only needs "which needle ends where" for a block of bytes; everything else
(spans, hold-back, merging) is engine-independent, so both engines give byte-identical output.
A needle is a literal, or a small regular expression for what literals cannot say cheaply (a URL
with user-info): one scan finds both, so a log full of ordinary URLs costs no Python call per URL.
Hyperscan (Vectorscan) is used when it imports: it scans at GB/s where pyahocorasick manages
tens of MB/s. pyahocorasick is the reference and the fallback.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Iterator, NamedTuple, Protocol

from radar.errors import RadarError

# Scans one block; returns (needle index, end offset) for every occurrence, overlaps included.
Scan = Callable[[bytes], list[tuple[int, int]]]

ENGINES = ("hyperscan", "ahocorasick")


class Needle(NamedTuple):
    """What to find: a byte literal, or (`regex`) an expression both engines read the same way.

    A named tuple rather than a frozen dataclass: a SecretSet makes and hashes ~8,000 of them
    with 1,000 secrets, and a tuple is built in a third and hashed in a third of the time.

    `caseless` folds ASCII letters only, which is what both engines agree on. An expression must
    have at most one match per start and matches that never overlap (for example a literal
    opening, a class that excludes the closing byte, then that byte), so that Hyperscan's "every
    match end" and Python's `re.finditer` report the same ends.
    """

    text: bytes
    caseless: bool = False
    regex: bool = False
    # An expression that can only match where this byte occurs: blocks without it skip the
    # expression pass (a URL password needs an `@`; most log blocks have none).
    gate: bytes = b""


class Matcher(Protocol):
    name: str

    def scanner(self) -> Scan:
        """A scan function for one stream (Hyperscan needs per-stream scratch space)."""


def engine_choice(engine: str | None = None) -> str:
    """The engine `compile_matcher` will try first: the named one, or hyperscan when it imports.
    (It still falls back to ahocorasick when hyperscan cannot run on this CPU.)"""
    choice = _choice(engine)
    if choice != "auto":
        return choice
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return "ahocorasick"
    return "hyperscan"


def _choice(engine: str | None) -> str:
    choice = engine or os.environ.get("RADAR_MASK_ENGINE") or "auto"
    if choice not in ENGINES + ("auto",):
        raise RadarError(f"unknown masking engine {choice!r}: use auto, hyperscan or ahocorasick")
    return choice


def compile_matcher(
    needles: Iterable[Needle], engine: str | None = None, meanwhile: Callable[[], None] = lambda: None
) -> Matcher:
    """Compile `needles` with the named engine, or the fastest one that imports.

    `needles` may be a generator (Hyperscan starts compiling before it ends); `meanwhile` runs
    once, while Hyperscan finishes compiling on other threads.
    """
    choice = _choice(engine)
    pending = [meanwhile]
    failed: list[BaseException] = []  # what `meanwhile` raised: its own error, not the engine's

    def once() -> None:
        while pending:
            try:
                pending.pop()()
            except BaseException as error:
                failed.append(error)
                raise

    source = iter(needles)
    read: list[Needle] = []  # what Hyperscan took before it failed, for the fallback

    def reading() -> Iterator[Needle]:
        for needle in source:
            read.append(needle)
            yield needle

    if choice in ("auto", "hyperscan"):
        try:
            from radar.mask.engine_hyperscan import HyperscanMatcher

            return HyperscanMatcher(reading(), once)
        except ImportError:
            if choice == "hyperscan":
                raise RadarError(
                    "the hyperscan engine is not installed: pip install hyperscan, or use --engine ahocorasick"
                ) from None
        except Exception as error:  # hyperscan.error: e.g. a CPU without the instructions it needs
            if failed:
                raise
            if choice == "hyperscan":
                raise RadarError(f"the hyperscan engine cannot run here ({error}): use --engine ahocorasick") from None
    from radar.mask.engine_ahocorasick import AhoCorasickMatcher

    matcher = AhoCorasickMatcher(read + list(source))
    once()
    return matcher
