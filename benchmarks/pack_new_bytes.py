"""How many bytes each version in a history really adds: a bound for history scanning.

Run `python benchmarks/pack_new_bytes.py [REPO ...]` (default: the repositories that
scan_history_shapes.py builds under benchmarks/work/history-shapes/).

radar scans each unique blob of a history whole. In a clone's pack nearly every blob is stored as
a delta of another version: copies of the base's bytes plus a few inserted ones. This walks each
pack of a repository in Python, in pack order, inflating every object and reading each blob
delta's instructions, and reports the time that takes, the bytes of the blobs stored whole, the
bytes the blob deltas insert, their seams (where a version stops following its base: a line cut
out), and (from `git cat-file`) the bytes of all blobs. A scanner that scanned only the lines
around inserts and seams, and took a delta's other findings over from its base, would scan the
first two instead of the last. Nothing is kept but counts. SHA-1 repositories with version-2
pack indexes only; a delta whose base is in another pack, or later in this one, is not counted.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from scan_history import unique_blob_bytes

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "benchmarks" / "work" / "history-shapes"
_BLOB, _OFS_DELTA, _REF_DELTA = 3, 6, 7


@dataclass(frozen=True)
class PackBytes:
    objects: int
    whole_blobs: int
    whole_blob_bytes: int
    blob_deltas: int
    inserted_bytes: int
    seams: int
    seconds: float


def _index(path: Path) -> tuple[list[int], dict[bytes, int]]:
    """Offsets of a version-2 pack index's objects, and object id -> offset."""
    data = path.read_bytes()
    if data[:8] != b"\xfftOc\x00\x00\x00\x02":
        raise SystemExit(f"{path}: not a version-2 pack index")
    count = struct.unpack_from(">I", data, 8 + 255 * 4)[0]
    names = 8 + 256 * 4
    small = names + count * 20 + count * 4  # after the ids and their CRCs
    large = small + count * 4
    offsets = []
    for i, offset in enumerate(struct.unpack_from(f">{count}I", data, small)):
        if offset & 0x80000000:  # a pack over 2 GiB: the offset is in the 8-byte table
            offset = struct.unpack_from(">Q", data, large + (offset & 0x7FFFFFFF) * 8)[0]
        offsets.append(offset)
    ids = {data[names + i * 20: names + i * 20 + 20]: offsets[i] for i in range(count)}
    return offsets, ids


def _varint(data: bytes, i: int) -> int:
    """Index after a delta header's little-endian base-128 size."""
    while data[i] & 0x80:
        i += 1
    return i + 1


def _pieces(delta: bytes) -> tuple[int, int]:
    """(instructions, bytes inserted) of a delta: each instruction past the first is a seam, a
    place where the version's text stops following its base's."""
    i = _varint(delta, _varint(delta, 0))  # base size, then result size
    pieces = inserted = 0
    while i < len(delta):
        op = delta[i]
        i += 1
        pieces += 1
        if op & 0x80:  # copy from the base: one byte per offset/size bit set
            i += bin(op & 0x7F).count("1")
        else:  # insert the next `op` bytes
            inserted += op
            i += op
    return pieces, inserted


def walk(pack: Path) -> PackBytes:
    started = time.perf_counter()
    offsets, ids = _index(pack.with_suffix(".idx"))
    data = memoryview(pack.read_bytes())
    kinds: dict[int, int] = {}
    whole = whole_bytes = deltas = inserted = seams = 0
    ordered = sorted(offsets)
    ends = ordered[1:] + [len(data) - 20]  # the pack ends in a 20-byte checksum
    for offset, end in zip(ordered, ends):
        i = offset
        byte = data[i]
        i += 1
        kind = (byte >> 4) & 7
        while byte & 0x80:
            byte = data[i]
            i += 1
        base_kind = None
        if kind == _OFS_DELTA:
            byte = data[i]
            i += 1
            back = byte & 0x7F
            while byte & 0x80:
                byte = data[i]
                i += 1
                back = ((back + 1) << 7) | (byte & 0x7F)
            base_kind = kinds.get(offset - back)
        elif kind == _REF_DELTA:
            base_kind = kinds.get(ids.get(bytes(data[i:i + 20]), -1))
            i += 20
        body = zlib.decompress(data[i:end])
        kinds[offset] = base_kind if base_kind is not None else kind
        if kind == _BLOB:
            whole += 1
            whole_bytes += len(body)
        elif base_kind == _BLOB:
            deltas += 1
            pieces, added = _pieces(body)
            seams += max(pieces - 1, 0)
            inserted += added
    return PackBytes(len(offsets), whole, whole_bytes, deltas, inserted, seams, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="*", type=Path)
    args = parser.parse_args()
    repos = args.repos or sorted(SHAPES.glob("repo-*-packed.git"))
    if not repos:
        raise SystemExit("no repositories: run benchmarks/scan_history_shapes.py first, or name one")
    print("| repository | objects | blobs whole | their MB | blob deltas | inserted KB | seams | all blobs MB | walk s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for repo in repos:
        _, blob_bytes = unique_blob_bytes(repo)
        git_dir = Path(subprocess.run(["git", "-C", str(repo), "rev-parse", "--absolute-git-dir"],
                                      check=True, capture_output=True, text=True).stdout.strip())
        for pack in sorted((git_dir / "objects" / "pack").glob("*.pack")):
            found = walk(pack)
            print(f"| {repo.name} | {found.objects:,} | {found.whole_blobs:,} | {found.whole_blob_bytes / 1e6:.1f} "
                  f"| {found.blob_deltas:,} | {found.inserted_bytes / 1e3:,.0f} | {found.seams:,} "
                  f"| {blob_bytes / 1e6:.1f} "
                  f"| {found.seconds:.2f} |")


if __name__ == "__main__":
    main()
