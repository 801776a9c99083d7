"""PLACEHOLDER: being written (interface only). See radar/mask/__init__.py."""

from __future__ import annotations

from typing import Iterable

from radar.mask.model import MaskOptions, Refusal, Secret


class SecretSet:
    """All forms of all registered secrets, compiled once and shared by every stream of a job."""

    def __init__(self, secrets: Iterable[Secret], options: MaskOptions = MaskOptions()) -> None:
        self.options = options
        self.refused: list[Refusal] = []
        self._values = [s.value.strip() for s in secrets if s.value.strip()]

    def add(self, secret: Secret) -> Refusal | None:
        self._values.append(secret.value.strip())
        return None


class StreamMasker:
    """Masks one byte stream: feed() returns what can be released now, finish() the rest."""

    def __init__(self, secret_set: SecretSet, allow_add_mask: bool = False) -> None:
        self._set = secret_set
        self._buf = b""

    def feed(self, chunk: bytes) -> bytes:
        self._buf += chunk
        return b""

    def finish(self) -> bytes:
        out = self._buf
        for v in self._set._values:
            out = out.replace(v, self._set.options.marker)
        return out
