"""The matcher interface: many byte literals, every occurrence, in one pass.

The stream masker only needs "which literal ends where" for a block of bytes; everything else
(spans, hold-back, merging) is engine-independent, so both engines give byte-identical output.
Hyperscan (Vectorscan) is used when it imports: it scans at GB/s where pyahocorasick manages
tens of MB/s. pyahocorasick is the reference and the fallback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from radar.errors import RadarError

# Scans one block; returns (literal index, end offset) for every occurrence, overlaps included.
Scan = Callable[[bytes], list[tuple[int, int]]]

ENGINES = ("hyperscan", "ahocorasick")


@dataclass(frozen=True)
class Literal:
    """A byte string to find; `caseless` folds ASCII letters only (what both engines agree on)."""

    text: bytes
    caseless: bool = False


class Matcher(Protocol):
    name: str

    def scanner(self) -> Scan:
        """A scan function for one stream (Hyperscan needs per-stream scratch space)."""


def compile_matcher(literals: Sequence[Literal], engine: str | None = None) -> Matcher:
    """Compile `literals` with the named engine, or the fastest one that imports."""
    choice = engine or os.environ.get("RADAR_MASK_ENGINE") or "auto"
    if choice not in ENGINES + ("auto",):
        raise RadarError(f"unknown masking engine {choice!r}: use auto, hyperscan or ahocorasick")
    if choice in ("auto", "hyperscan"):
        try:
            from radar.mask.engine_hyperscan import HyperscanMatcher
        except ImportError:
            if choice == "hyperscan":
                raise RadarError(
                    "the hyperscan engine is not installed: pip install hyperscan, or use --engine ahocorasick"
                ) from None
        else:
            return HyperscanMatcher(literals)
    from radar.mask.engine_ahocorasick import AhoCorasickMatcher

    return AhoCorasickMatcher(literals)
