"""Running the stream masker in tests: whole inputs, given reads, both engines."""

from __future__ import annotations

from typing import Iterable, Sequence

from radar.mask.model import MaskOptions, Secret
from radar.mask.stream import SecretSet, StreamMasker


def secret_set(values: Iterable[bytes], engine: str = "hyperscan", **options) -> SecretSet:
    secrets = [Secret(value, f"test secret {i}") for i, value in enumerate(values)]
    return SecretSet(secrets, MaskOptions(engine=engine, **options))


def mask_reads(secrets: SecretSet, reads: Sequence[bytes], allow_add_mask: bool = False) -> bytes:
    masker = StreamMasker(secrets, allow_add_mask=allow_add_mask)
    return b"".join(masker.feed(read) for read in reads) + masker.finish()


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]
