"""`radar scan --history --cache`: blobs found clean by an earlier scan are not read again.

A scheduled scan of a repository's history reads the same thousands of blobs every time, and
nearly all of them hold nothing. A blob's content never changes (git names it by a hash of it),
so whether it holds a finding depends only on that content, the path it is scanned under (rules
look at file names), and how radar scans: its code and rules, the scan configuration and the
limits. This cache remembers, per such scanning setup, the blobs (with their path) that gave no
finding at all, not even an ignored one, and the next scan with the same setup skips them.

What is kept: one line per clean blob, a keyed hash of its id and path (16 bytes, hex), never
content and never anything of a finding; the file is private (0600), in $XDG_CACHE_HOME/radar
(default ~/.cache/radar), one file per setup and fingerprint key, named by their hash. The hash is
keyed by the fingerprint key because a cache may be shared (GitLab CI's `cache:`): whoever can
write it but does not hold the key (an unprotected branch's pipeline) cannot make an entry that
hides a blob from the scan; a forged line only means nothing is skipped. Any change to radar's code, rules,
the configuration or the limits gives another hash, so an old verdict is never reused under new
rules. A file that is missing, too large, or not in this form is ignored (the scan reads
everything, as without the cache) and replaced after the scan.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from radar.scan.findings import FingerprintKey
from radar.scan.cache_files import cache_path, store_cached

MAX_ENTRIES = 2_000_000  # 66 MB of lines: older entries beyond it are dropped
_HEADER = "radar clean blobs 1 "
_ENTRY = 32  # hex characters of an entry
_ENTRIES = re.compile(r"[0-9a-f]{%d}(?:\n[0-9a-f]{%d})*" % (_ENTRY, _ENTRY))
_PACKAGE = Path(__file__).resolve().parent.parent  # the installed radar package


@dataclass(frozen=True)
class CleanBlobs:
    setup: str  # the scanning setup's hash
    secret: bytes = field(repr=False)  # keys the entries (from the fingerprint key)
    known: frozenset[str] = frozenset()
    path: Path = Path()

    def holds(self, blob: str, path: str) -> bool:
        return entry(blob, path, self.secret) in self.known

    def remember(self, clean: Iterable[tuple[str, str]]) -> None:
        """Add `(blob, path)` pairs found clean, keeping the newest MAX_ENTRIES."""
        new = [e for e in dict.fromkeys(entry(b, p, self.secret) for b, p in clean) if e not in self.known]
        if not new:
            return
        kept = _read_entries(self.path, self.setup)  # in file order: oldest first
        lines = [*kept, *new][-MAX_ENTRIES:]
        store_cached(self.path, (_HEADER + self.setup + "\n" + "".join(f"{e}\n" for e in lines)).encode(),
                     mode=0o600)


def load(settings: tuple, key: FingerprintKey) -> CleanBlobs:
    """The blobs known clean for this setup (`setup_hash(*settings)`) under fingerprint key `key`."""
    setup = setup_hash(*settings, key.key_id)
    path = cache_path(f"clean-blobs-{setup[:32]}.txt")
    secret = hmac.new(key.key, b"\xffradar clean blobs", hashlib.sha256).digest()
    return CleanBlobs(setup, secret, frozenset(_read_entries(path, setup)), path)


def entry(blob: str, path: str, secret: bytes) -> str:
    return hashlib.blake2b(f"{blob}\0{path}".encode("utf-8", "surrogateescape"), key=secret,
                           digest_size=_ENTRY // 2).hexdigest()


def setup_hash(*settings: object) -> str:
    """The hash of how radar scans: every source and rule file of the installed package, and
    `settings` (the configuration, limits, decode depth: whatever else decides a finding)."""
    digest = hashlib.sha256()
    for file in sorted(_PACKAGE.rglob("*")):
        if file.suffix in (".py", ".toml", ".json", ".txt") and "__pycache__" not in file.parts:
            digest.update(str(file.relative_to(_PACKAGE)).encode() + b"\0" + file.read_bytes() + b"\0")
    digest.update(repr(settings).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _read_entries(path: Path, setup: str) -> list[str]:
    try:
        with open(path, "rb") as file:
            if os.fstat(file.fileno()).st_size > (MAX_ENTRIES + 1) * (_ENTRY + 1) + 200:
                return []
            lines = file.read().decode("ascii").split("\n")
    except (OSError, UnicodeDecodeError):
        return []
    if lines[0] != _HEADER + setup or lines[-1] != "":
        return []  # another setup's, or cut short: start afresh
    entries = lines[1:-1]
    if entries and not _ENTRIES.fullmatch("\n".join(entries)):
        return []
    return entries
