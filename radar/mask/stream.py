"""The streaming masker: bytes in, bytes out, nothing held that could not still be a secret.

Algorithm. Each read is appended to the bytes still held from earlier reads (the tail) and the
block is scanned once by the matcher, which reports every occurrence of every literal, overlaps
included. A hit becomes a span to mask: the literal itself (a form of a registered secret), a
whole multi-line secret verified from its first segment, a base64 form verified from one of its
anchors across the wraps of wrapped base64 (radar.mask.wrapped; one span per line, the line
breaks stay), or what follows a token prefix, a sensitive query key or a URL's `://`. Spans are
kept in absolute stream offsets, sorted, and merged when they overlap *or touch*: the output has
one marker per contiguous masked region, so `abcd`+`cdef` over `abcdef` and two secrets written
back to back both give one `[MASKED]`, and the marker never tells how many secrets or how long
they were.

Release. After the scan, the block splits at R, the start of the earliest thing that could still
become a match:
- the longest tail that is a proper prefix of some literal (PrefixIndex);
- a multi-line secret matched up to the end of the block (partial chain);
- a base64 form matched up to the end of the block across wraps, or a block that ends after a
  wrap with a proper prefix of a form (wrapped.joined_tail);
- a `://` whose user-info has not ended yet (bounded by detectors.USERINFO_LIMIT).
Everything before R is written now, masked spans replaced; everything from R on is the new tail
and is scanned again with the next read. Invariants that make this correct:
1. a match found later cannot start before R (its start would have been a prefix in the tail),
   so released bytes never need a marker after the fact;
2. a masked span that runs past R has already had its marker written; `_masked_until`
   remembers it, so the rest of the span and anything overlapping or touching it stays silent;
3. token bodies and query values that reach the end of the block are masked as far as they go
   and recorded as open, so they continue into the next read without holding anything back
   (a 1 GB token body costs no memory), and at end of input an open body is simply masked.
Output therefore does not depend on how the input was split into reads, byte by byte included.

At finish() nothing can grow any more: held bytes are released (a partial match was no
secret), and open spans end where the input ends.
"""

from __future__ import annotations

from radar.mask import detectors, wrapped
from radar.mask.engine import Scan
from radar.mask.forms import PARTIAL
from radar.mask.inband import AddMaskFilter
from radar.mask.model import Refusal, Secret
from radar.mask.patterns import BREAK, MASK, QUERY, TOKEN, URL, WRAP, PatternTable, SecretSet

_RUNS = {TOKEN: detectors.TOKEN_BODY, QUERY: detectors.QUERY_VALUE}
# Released pieces: slices of the block that was read (no copy), and markers.
Buffer = bytes | memoryview


class StreamMasker:
    """Masks one byte stream: feed() returns what can be written now, finish() the rest."""

    def __init__(self, secret_set: SecretSet, allow_add_mask: bool = False) -> None:
        self._set = secret_set
        self._marker = secret_set.options.marker
        self._tables: tuple[PatternTable, ...] = ()
        self._scans: tuple[Scan, ...] = ()  # one per table: Hyperscan needs per-stream scratch
        self._tail = b""
        self._base = 0  # stream offset of _tail[0]
        self._spans: list[tuple[int, int]] = []  # masked spans not yet fully released
        self._masked_until = -1  # end of the last masked region whose marker was written
        self._open_runs: set[tuple[int, int]] = set()  # (role, stream offset) of bodies still open
        self._run_before = 0  # base64 characters that end the bytes before _tail (wrapped.run_after)
        self._filter = AddMaskFilter() if allow_add_mask else None

    def feed(self, chunk: bytes) -> bytes:
        """Mask `chunk`; return what can be written now."""
        return b"".join(self.feed_parts(chunk))

    def finish(self) -> bytes:
        """End of input: return everything still held, masked."""
        return b"".join(self.finish_parts())

    def feed_parts(self, chunk: bytes) -> list[Buffer]:
        """Like feed(), as pieces for os.writev: the unmasked stretches are not copied."""
        if self._filter is None:
            return self._process(chunk, final=False)
        out: list[Buffer] = []
        for piece in self._filter.feed(chunk):
            out += self._handle(piece)
        return out

    def finish_parts(self) -> list[Buffer]:
        out: list[Buffer] = []
        if self._filter is not None:
            for piece in self._filter.finish():
                out += self._handle(piece)
        return out + self._process(b"", final=True)

    def _handle(self, piece: bytes | Secret | Refusal) -> list[Buffer]:
        if isinstance(piece, Secret):
            self._set.add(piece)
            return []
        if isinstance(piece, Refusal):
            self._set.refuse(piece)
            return []
        return self._process(piece, final=False)

    def _process(self, chunk: bytes, final: bool) -> list[Buffer]:
        tables = self._set.tables
        if tables is not self._tables:
            known = {id(table): scan for table, scan in zip(self._tables, self._scans)}
            self._scans = tuple(known.get(id(table)) or table.matcher.scanner() for table in tables)
            self._tables = tables
        data = self._tail + chunk if self._tail else chunk
        if not data:
            return []
        hold = self._scan_block(data, final)
        if len(tables) > 1:
            self._set.scanned(len(data))
        out = self._release(data, hold)
        self._run_before = wrapped.run_after(data, hold, self._run_before)
        self._base += hold
        self._tail = data[hold:]
        return out

    def _scan_block(self, data: bytes, final: bool) -> int:
        """Record the block's spans; return R, where the bytes still needed start."""
        base, n = self._base, len(data)
        hold = n
        if not final:
            for table in self._tables:
                hold = min(hold, table.exact_prefixes.hold_start(data), table.folded_prefixes.hold_start(data))
            if self._set.options.mask_url_passwords:
                hold = min(hold, detectors.open_authority(data))
            if any(table.wrapped for table in self._tables):
                hold = min(hold, self._wrapped_hold(data))
        runs, self._open_runs = self._open_runs, set()
        # An open run ended the previous block, which the hold never passes: it lies in this one.
        for role, offset in runs:
            self._extend_run(role, data, offset - base, final)
        for table, scan in zip(self._tables, self._scans):
            hold = self._scan_table(table, scan, data, final, hold)
        return hold

    def _scan_table(self, table: PatternTable, scan: Scan, data: bytes, final: bool, hold: int) -> int:
        """Record the spans of one table's hits; return `hold`, lowered by its partial matches."""
        base, spans = self._base, self._spans
        roles, lengths = table.roles, table.lengths
        for ident, end in scan(data):
            for role in roles[ident]:
                if role == MASK:
                    spans.append((base + end - lengths[ident], base + end))
                elif role >= 0:
                    start = end - lengths[ident]
                    chain_end = table.chains[role].match(data, start, final)
                    if chain_end == PARTIAL:
                        hold = min(hold, start)
                    elif chain_end is not None:
                        spans.append((base + start, base + chain_end))
                elif role <= WRAP:
                    hold = self._match_wrapped(table.wrapped[WRAP - role], data, end - lengths[ident], final, hold)
                elif role == BREAK:
                    line_break = wrapped.break_start(data, end)
                    if wrapped.wraps(data, line_break, self._run_before):
                        hold = self._cut_anchors(table, scan, data, line_break, end, final, hold)
                elif role == URL:
                    authority = detectors.authority_start(data, end)
                    found = detectors.url_password(data, authority, final)
                    if found == detectors.WAIT:
                        hold = min(hold, authority - 3)
                    elif found is not None:
                        spans.append((base + found[0], base + found[1]))
                else:
                    self._extend_run(role, data, end, final)
        if table.breaks:
            first = wrapped.first_break_after_run(data, self._run_before)
            if first is not None:
                hold = self._cut_anchors(table, scan, data, *first, final, hold)
        return hold

    def _match_wrapped(self, anchored: tuple[tuple[wrapped.WrappedForm, ...], bool], data: bytes, start: int,
                       final: bool, hold: int) -> int:
        """Record the spans of the base64 forms an anchor at `start` begins (or is the second
        anchor of); return `hold`, lowered by their partial matches."""
        forms, second = anchored
        for form in forms:
            match = form.match_second if second else form.match_head
            found = match(data, start, final, self._run_before)
            if found is None:
                continue
            if found[1] == PARTIAL:
                hold = min(hold, found[0])
            else:
                self._spans.extend((self._base + a, self._base + b) for a, b in wrapped.text_spans(data, *found))
        return hold

    def _cut_anchors(self, table: PatternTable, scan: Scan, data: bytes, line_break: int, after: int,
                     final: bool, hold: int) -> int:
        """Match the base64 forms whose head anchor the wrapping line break data[line_break:after]
        cuts: the anchor's characters on both sides, joined, are scanned like a block."""
        reach = wrapped.ANCHOR - 1  # an anchor cut by the break has at most this many on a side
        before = data[max(0, line_break - reach) : line_break]
        cut = len(before)
        for ident, end in scan(before + data[after : after + reach]):
            start = end - table.lengths[ident]
            if not start < cut < end:
                continue
            for role in table.roles[ident]:
                if role <= WRAP:
                    hold = self._match_wrapped(table.wrapped[WRAP - role], data, line_break - cut + start, final, hold)
        return hold

    def _wrapped_hold(self, data: bytes) -> int:
        """Where a base64 form cut by a wrap at the end of the block may start (len(data) if none)."""
        reach = max(table.wrapped_reach for table in self._tables)
        tail = wrapped.joined_tail(data, self._run_before, reach)
        if tail is None:
            return len(data)
        joined, pieces = tail
        index = min(table.wrapped_prefixes.hold_start(joined) for table in self._tables)
        return wrapped.offset_in(pieces, index) if index < len(joined) else len(data)

    def _extend_run(self, role: int, data: bytes, start: int, final: bool) -> None:
        """Mask a token body or query value from `start`; keep it open if it reaches the end."""
        end = detectors.run_end(_RUNS[role], data, start)
        if end > start:
            self._spans.append((self._base + start, self._base + end))
        if end == len(data) and not final:
            self._open_runs.add((role, self._base + end))

    def _release(self, data: bytes, hold: int) -> list[Buffer]:
        """Bytes before `hold`, with each contiguous masked region replaced by one marker."""
        base = self._base
        if not self._spans:
            if hold == len(data):
                return [data]
            return [memoryview(data)[:hold]] if hold else []
        view = memoryview(data)
        limit = base + hold
        out: list[Buffer] = []
        cursor = base
        kept: list[tuple[int, int]] = []
        for start, end in _merged(self._spans):
            if start >= limit:
                kept.append((start, end))
                continue
            if start > cursor:
                out.append(view[cursor - base : start - base])
            if start > self._masked_until:
                out.append(self._marker)
            self._masked_until = max(self._masked_until, end)
            cursor = max(cursor, min(end, limit))
            if end > limit:
                kept.append((start, end))
        if cursor < limit:
            out.append(view[cursor - base : hold])
        self._spans = kept
        return out


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping and touching ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


__all__ = ["Buffer", "SecretSet", "StreamMasker"]
