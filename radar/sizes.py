"""Byte counts as people read them: `14.4 MB`, `980 kB`, `1.2 GB`, in decimal units (1 kB = 1000 B,
as `--max-file-size 10M` counts them).

Three significant digits at most: one decimal below 100 of a unit (`14.4 MB`, `9.9 kB`, no `.0`),
none from 100 (`980 kB`), and a value that rounds to 1000 of a unit is shown in the next one
(999,960 bytes is `1 MB`, not `1000 kB`). Every radar message that states a size uses `human_size`.
"""

from __future__ import annotations

_UNITS = ("kB", "MB", "GB", "TB", "PB", "EB")


def human_size(n: int) -> str:
    """`n` bytes, e.g. `512 B`, `980 kB`, `14.4 MB`."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in _UNITS:
        value /= 1000
        text = f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
        if float(text) < 1000 or unit == _UNITS[-1]:
            return f"{text.removesuffix('.0')} {unit}"
    raise AssertionError("unreachable: the last unit returns")


def sizes_apart(size: int, limit: int) -> tuple[str, str]:
    """`size` and `limit` for "SIZE is over the LIMIT limit": human sizes, or exact byte counts
    when the human forms would read the same (10,000,001 bytes over a 10 MB limit)."""
    shown = human_size(size), human_size(limit)
    if shown[0] == shown[1]:
        return f"{size:,} bytes", f"{limit:,}-byte"
    return shown
