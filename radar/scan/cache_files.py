"""radar's cache directory, $XDG_CACHE_HOME/radar (default ~/.cache/radar), and whole-file writes
into it. What is kept there: the compiled keyword databases and plan (`prefilter`, `engine`), the
compiled rule expressions (`compiled`) and the clean blobs of `--cache` (`clean_blobs`)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


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
