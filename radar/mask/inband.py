"""In-band registration: a line `::add-mask::VALUE` registers VALUE and is never written out.

The filter sits in front of the masker. It holds back only what might still turn out to be such
a line: the start of a line while it matches `::add-mask::`, then the rest of that line until its
newline. Everything else passes through at once. It holds at most MAX_LINE bytes, however long
a line is, and looks at each byte of the stream once.
"""

from __future__ import annotations

from radar.mask.model import Refusal, Secret

COMMAND = b"::add-mask::"
_CANDIDATE = b"\n" + COMMAND[:1]
# A registration line longer than this is dropped whole (never written) and refused: a one-line
# secret that long is no secret (a base64 kubeconfig is a few KiB), every form of a value costs
# the matcher memory, and holding more would let one line exhaust it.
MAX_LINE = 64 << 10


class AddMaskFilter:
    """Splits a stream into data pieces, the secrets registered by `::add-mask::` lines, and the
    refusals of lines too long to register."""

    def __init__(self) -> None:
        self._at_line_start = True
        self._partial = b""  # a line start that still matches COMMAND
        self._line: bytearray | None = None  # value of a registration line being read
        self._oversized = False
        self._count = 0

    @property
    def held(self) -> int:
        """Bytes of the stream held back (a possible or an actual registration line)."""
        return len(self._partial) + len(self._line or b"")

    def feed(self, chunk: bytes) -> list[bytes | Secret | Refusal]:
        out: list[bytes | Secret | Refusal] = []
        i, n = 0, len(chunk)
        run = 0  # start of the ordinary bytes not yet in `out`: they leave as one piece
        while i < n:
            if self._line is not None:
                newline = chunk.find(b"\n", i)
                stop = n if newline < 0 else newline
                if len(self._line) + stop - i > MAX_LINE:
                    self._oversized = True
                else:
                    self._line += chunk[i:stop]
                if newline < 0:
                    return out
                out.extend(self._end_line())
                i = run = newline + 1
                self._at_line_start = True
                continue
            if self._at_line_start:
                wanted = COMMAND[len(self._partial) :]
                piece = chunk[i : i + len(wanted)]
                if wanted.startswith(piece):
                    if run < i:
                        out.append(chunk[run:i])
                    self._partial += piece
                    i = run = i + len(piece)
                    if self._partial == COMMAND:
                        self._partial, self._line, self._oversized = b"", bytearray(), False
                    continue
                if self._partial:
                    out.append(self._partial)
                    self._partial = b""
                self._at_line_start = False
            # Only a line that starts like COMMAND needs a closer look.
            newline = chunk.find(_CANDIDATE, i)
            if newline < 0:
                self._at_line_start = chunk.endswith(b"\n")
                break
            i = newline + 1
            self._at_line_start = True
        if run < n:
            out.append(chunk[run:])
        return out

    def finish(self) -> list[bytes | Secret | Refusal]:
        if self._line is not None:
            return self._end_line()
        partial, self._partial = self._partial, b""
        return [partial] if partial else []

    def _end_line(self) -> list[bytes | Secret | Refusal]:
        line, self._line = bytes(self._line or b""), None
        self._count += 1
        source = f"::add-mask:: line {self._count} of the stream"
        if self._oversized:
            return [Refusal(source, f"is longer than {MAX_LINE >> 10} KiB and was not registered (nor written)")]
        return [Secret(line.strip(), source)]
