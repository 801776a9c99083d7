"""The compiled set of everything one job masks, shared by all of its output streams.

`SecretSet` applies the policy (trim, ignore empty and duplicate values, refuse short ones by
source), expands every value into its forms, and compiles one matcher over all of them plus the
needles the detectors of unregistered secrets start from (token prefixes, sensitive query keys,
URLs with user-info). Each needle carries one or more roles saying what a hit means.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Iterator

from radar.mask import detectors
from radar.mask.engine import Matcher, Needle, compile_matcher, engine_choice
from radar.mask.forms import Chain, char_length, forms_of
from radar.mask.model import MaskOptions, Refusal, Secret
from radar.mask.wrapped import BREAK_NEEDLE, MIN_ANCHOR, WrappedForm, anchor_length

# Roles of a literal. A non-negative role is the index of the multi-line chain it starts.
MASK = -1  # the literal itself is masked
TOKEN = -2  # a token prefix: the body after it is masked
QUERY = -3  # `?key=` / `&key=`: the parameter value after it is masked
URL = -4  # a URL with user-info (detectors.USERINFO_NEEDLE): its password is masked
BREAK = -5  # a line break that wraps base64 (wrapped.BREAK_NEEDLE): head anchors it cuts are looked for
# An anchor of a base64 form that wraps may cut: role WRAP - i names PatternTable.wrapped[i].
WRAP = -6

_WHITESPACE = b" \t\r\n\x0b\x0c"


class PrefixIndex:
    """Finds the longest tail of a block that is still a proper prefix of some literal.

    That tail is all a stream has to hold back. Tails shorter than `reach` are looked up by their
    first G bytes (G = the shortest literal, at most 4): one dict probe per position of the last
    `reach - 1` bytes. The few literals longer than `reach` (hex of a PEM key runs to kilobytes)
    are checked one by one with `bytes.find` for their longer tails, so the per-position loop
    stays short however long the longest literal is.
    """

    REACH = 256  # at least this many positions go through the dict...
    MAX_LONG = 256  # ...and more when needed to keep the one-by-one literals this few

    def __init__(self, texts: Iterable[bytes], fold_case: bool = False) -> None:
        unique = sorted(set(texts), key=len, reverse=True)
        self._fold = fold_case
        self._g = min(4, min(map(len, unique), default=4))
        longest = len(unique[0]) if unique else 0
        reach = min(longest, self.REACH)
        if len(unique) > self.MAX_LONG:
            reach = max(reach, len(unique[self.MAX_LONG]))
        self._reach = reach
        self._long = [text for text in unique if len(text) > reach]
        # The most a lookup can need of a block: lowering more of it (fold_case) is wasted work.
        self._window = reach + (len(self._long[0]) if self._long else 0)
        self._by_gram: dict[bytes, list[bytes]] = {}
        for text in unique:
            self._by_gram.setdefault(text[: self._g], []).append(text)
        # Proper prefixes shorter than G (one comprehension: a generator per text cost 3x).
        self._short: set[bytes] = {text[:k] for k in range(1, self._g) for text in unique}

    def hold_start(self, data: bytes) -> int:
        """Smallest i such that data[i:] is a proper prefix of a literal; len(data) if none."""
        n = len(data)
        if not self._reach:
            return n
        if self._fold:
            data = data[-self._window :].lower()
            return n - len(data) + self._hold_in(data)
        return self._hold_in(data)

    def _hold_in(self, data: bytes) -> int:
        n = len(data)
        best = self._long_hold(data) if self._long else n
        g = self._g
        lo = max(0, n - self._reach + 1)
        if best <= lo:
            return best
        by_gram = self._by_gram
        for i in range(lo, n - g + 1):
            candidates = by_gram.get(data[i : i + g])
            if candidates is not None:
                tail = data[i:]
                size = len(tail)
                for text in candidates:
                    if len(text) > size and text.startswith(tail):
                        return i
        for i in range(max(lo, n - g + 1), n):
            if data[i:] in self._short:
                return i
        return best

    def _long_hold(self, data: bytes) -> int:
        """The earliest tail of `reach` bytes or more that a long literal starts with."""
        n, g = len(data), self._g
        last = n - self._reach  # tails starting here or earlier are at least `reach` long
        best = n
        for text in self._long:
            head = text[:g]
            i = data.find(head, max(0, n - len(text) + 1), last + g)
            while 0 <= i <= last and i < best:
                if text.startswith(data[i:]):
                    best = i
                    break
                i = data.find(head, i + 1, last + g)
        return best


@dataclass(frozen=True)
class PatternTable:
    """One compiled generation of a SecretSet."""

    needles: tuple[Needle, ...]
    # Byte length of each literal needle: a hit ending at `end` starts at `end - lengths[ident]`.
    lengths: tuple[int, ...]
    roles: tuple[tuple[int, ...], ...]
    chains: tuple[Chain, ...]
    matcher: Matcher
    exact_prefixes: PrefixIndex
    folded_prefixes: PrefixIndex
    # For each WRAP role, the forms its anchor starts (or is the second anchor of: True), and the
    # longest form: a block that ends inside wrapped base64 is checked that far back.
    wrapped: tuple[tuple[tuple[WrappedForm, ...], bool], ...]
    wrapped_reach: int
    # Whether head anchors cut by a wrap are looked for at the wrapping line breaks (BREAK hits)
    # rather than through second anchors.
    breaks: bool = False

    @cached_property
    def wrapped_prefixes(self) -> PrefixIndex:
        """The base64 forms, for a block that ends after a wrap (rare: built on first use)."""
        return PrefixIndex(form.text for forms, second in self.wrapped if not second for form in forms)


@dataclass(frozen=True)
class _Segment:
    """The table over some of a SecretSet's values (and, in one segment, the detectors)."""

    values: tuple[bytes, ...]
    with_detectors: bool
    table: PatternTable

    @property
    def weight(self) -> int:
        """What compiling it again costs, in values."""
        return len(self.values) + self.with_detectors


# Bytes scanned through one extra table that cost about as much as compiling one value again
# (measured on the benchmark's secrets: Hyperscan compiles a value in ~0.35 ms and scans ~2 GB/s;
# pyahocorasick builds one in ~0.15 ms and scans ~50 MB/s).
_CONSOLIDATE_AFTER = {"hyperscan": 512 << 10, "ahocorasick": 8 << 10}

# Above this many values, the Hyperscan engine looks for head anchors cut by a wrap at the line
# breaks that wrap base64 (wrapped.BREAK_NEEDLE) instead of through second anchors: a value
# registers about three (3,013 for the throughput benchmark's 1,000 secrets), each ~18 us to
# build and compile, while the expression that finds wrapping breaks scans 48 MB of log in
# 10-14 ms. GitLab keeps a job log to 4 MB by default, where start-up is most of the cost.
# pyahocorasick would run that expression through Python's `re` over every block, so it keeps
# the second anchors.
BREAKS_ABOVE = 300

# Values added while streams run (`::add-mask::` lines) are bounded, so that a command's output
# cannot exhaust memory: the matcher holds every form of every value, several hundred bytes per
# byte of value (and a few KiB for the shortest). Values given before the streams start are not.
MAX_ADDED_VALUES = 10_000
MAX_ADDED_BYTES = 1 << 20


class SecretSet:
    """Registered secrets and the detectors of unregistered ones, compiled for masking.

    `add()` may be called while streams are running (in-band registration, secrets fetched
    later); streams pick up the new values at their next read.

    Registration is amortised. Compiling every value again at each registration made n
    `::add-mask::` lines cost O(n^2) (2,000 lines took minutes). Values are compiled in
    segments, each one table, which the streams scan one after the other (a hit in any of them
    is a hit: the union of the tables masks exactly what one table over every value would).
    Values registered since the last read form one batch (a burst of registrations costs one
    compile); the batch is merged with the newest segments while they are at most twice its
    weight, so segment weights at least double from newest to oldest (at most log2(n) + 1
    tables to scan) and a value is compiled again only into a segment at least 1.5 times
    heavier (O(log n) compiles per value). Once streams have spent, scanning through the extra
    tables, about what compiling everything into one table costs, the segments are merged into
    one (ski rental: about twice the cost of the better choice, at worst).
    """

    def __init__(
        self,
        secrets: Iterable[Secret] = (),
        options: MaskOptions = MaskOptions(),
        on_refusal: Callable[[Refusal], None] | None = None,
    ) -> None:
        self.options = options
        self.refused: list[Refusal] = []
        self._on_refusal = on_refusal
        self._values: dict[bytes, str] = {}
        self._pending: list[bytes] = []  # registered, not compiled yet
        self._segments: list[_Segment] = []
        self._tables: tuple[PatternTable, ...] = ()
        self._extra_scanned = 0  # bytes scanned through all but one table since the last merge
        self._needles: dict[bytes, _ValueNeedles] = {}  # what each value registers, computed once
        self._added_values = 0
        self._added_bytes = 0
        self._lock = threading.Lock()
        for secret in secrets:
            self._register(secret)
        with self._lock:
            self._settle()  # compile now: a bad engine choice fails before any command runs

    @property
    def sources(self) -> list[str]:
        """Where each registered value came from (for messages; never the values)."""
        return list(self._values.values())

    @property
    def tables(self) -> tuple[PatternTable, ...]:
        """Tables that together cover every value registered so far (one, most of the time)."""
        if self._pending:
            with self._lock:
                if self._pending:
                    self._settle()
        return self._tables

    def add(self, secret: Secret) -> Refusal | None:
        """Register a value while streams run (within MAX_ADDED_VALUES and MAX_ADDED_BYTES)."""
        with self._lock:
            known = len(self._values)
            if self._added_values >= MAX_ADDED_VALUES or self._added_bytes >= MAX_ADDED_BYTES:
                value = secret.value.strip(_WHITESPACE)
                if value and value not in self._values and char_length(value) >= self.options.min_length:
                    return self._refuse(Refusal(
                        secret.source,
                        f"was not registered: at most {MAX_ADDED_VALUES:,} values ({MAX_ADDED_BYTES >> 20} MiB) "
                        "are registered while masking; pass more with --secret-file or --secret-env",
                    ))
            refusal = self._register(secret)
            if len(self._values) > known:
                self._added_values += 1
                self._added_bytes += len(self._pending[-1])
            return refusal

    def refuse(self, refusal: Refusal) -> None:
        """Record a value that was not registered (an in-band line too long), and report it."""
        with self._lock:
            self._refuse(refusal)

    def scanned(self, size: int) -> None:
        """A stream scanned `size` bytes through every table: merge the tables into one once that
        extra scanning has cost about as much as the merge will."""
        with self._lock:
            if len(self._segments) < 2:
                return
            self._extra_scanned += size * (len(self._segments) - 1)
            weight = sum(segment.weight for segment in self._segments)
            if self._extra_scanned >= _CONSOLIDATE_AFTER.get(self._tables[0].matcher.name, 0) * weight:
                values = tuple(value for segment in self._segments for value in segment.values)
                self._segments = [self._segment(values, with_detectors=True)]
                self._tables = (self._segments[0].table,)
                self._extra_scanned = 0

    def _settle(self) -> None:
        """Compile the pending values into the segments (called with the lock held)."""
        values, self._pending = tuple(self._pending), []
        with_detectors = not self._segments
        weight = len(values) + with_detectors
        while self._segments and self._segments[-1].weight <= 2 * weight:
            newest = self._segments.pop()
            values = newest.values + values
            weight += newest.weight
            with_detectors = with_detectors or newest.with_detectors
        self._segments.append(self._segment(values, with_detectors))
        self._tables = tuple(segment.table for segment in self._segments)

    def _segment(self, values: tuple[bytes, ...], with_detectors: bool) -> _Segment:
        return _Segment(values, with_detectors, self._compile(values, with_detectors))

    def _register(self, secret: Secret) -> Refusal | None:
        value = secret.value.strip(_WHITESPACE)
        refusal = None
        if not value:
            refusal = Refusal(secret.source, "is empty, nothing to mask")
        elif char_length(value) < self.options.min_length:
            refusal = Refusal(
                secret.source,
                f"is shorter than {self.options.min_length} characters and was not registered for masking "
                "(lower --min-length to mask it)",
            )
        elif value not in self._values:
            self._values[value] = secret.source
            self._pending.append(value)
        return None if refusal is None else self._refuse(refusal)

    def _refuse(self, refusal: Refusal) -> Refusal:
        self.refused.append(refusal)
        if self._on_refusal is not None:
            self._on_refusal(refusal)
        return refusal

    def _compile(self, values: tuple[bytes, ...], with_detectors: bool) -> PatternTable:
        roles: dict[Needle, list[int]] = {}
        chains: list[Chain] = []
        wrapped: list[tuple[tuple[WrappedForm, ...], bool]] = []
        # What a tail of a block is held for: every literal but second anchors (a block ending
        # inside one is held by the joined-tail check instead).
        exact: list[bytes] = []
        folded: list[bytes] = []
        breaks = len(values) > BREAKS_ABOVE and engine_choice(self.options.engine) == "hyperscan"

        def give(needle: Needle, role: int) -> tuple[Needle, ...]:
            """Record what a hit of `needle` means; the needle to compile if it is new, else none."""
            known = roles.get(needle)
            if known is None:
                roles[needle] = [role]
                return (needle,)
            known.append(role)
            return ()

        # The needles as they are found, each once, in the order of `roles`: Hyperscan compiles
        # the first thousands while the forms of the other values are still being worked out.
        def needles() -> Iterator[Needle]:
            for value in values:
                registers = self._needles.get(value)
                if registers is None:  # a value is compiled again each time its segment is merged
                    registers = self._needles[value] = _needles_of(value, self.options.min_length)
                for needle in registers.masks:
                    yield from give(needle, MASK)
                anchors = [(anchor, forms, False) for anchor, forms in registers.heads]
                if not breaks:
                    anchors += [(anchor, forms, True) for anchor, forms in registers.seconds]
                for anchor, forms, second in anchors:
                    wrapped.append((forms, second))
                    yield from give(anchor, WRAP - (len(wrapped) - 1))
                for chain, first in registers.chains:
                    chains.append(chain)
                    yield from give(first, len(chains) - 1)
                exact.extend(registers.held)
            if with_detectors:
                for prefix in self.options.token_prefixes:
                    exact.append(prefix)
                    yield from give(Needle(prefix), TOKEN)
                for key in self.options.query_keys:
                    for separator in (b"?", b"&"):
                        query = separator + key.lower() + b"="
                        folded.append(query)
                        yield from give(Needle(query, caseless=True), QUERY)
                if self.options.mask_url_passwords:
                    yield from give(Needle(detectors.USERINFO_NEEDLE, regex=True, gate=b"@"), URL)
            if breaks and wrapped:
                yield from give(Needle(BREAK_NEEDLE, regex=True), BREAK)

        # Everything but the matcher is built while Hyperscan compiles its last windows.
        fields: dict[str, object] = {}

        def tables() -> None:
            all_needles = tuple(roles)
            fields.update(
                needles=all_needles,
                lengths=tuple(len(n.text) for n in all_needles),
                roles=tuple(map(tuple, roles.values())),  # in the order of `roles`, as all_needles
                chains=tuple(chains),
                exact_prefixes=PrefixIndex(exact),
                folded_prefixes=PrefixIndex(folded, fold_case=True),
                wrapped=tuple(wrapped),
                wrapped_reach=max((len(form.text) for forms, _ in wrapped for form in forms), default=0),
                breaks=breaks and bool(wrapped),
            )

        matcher = compile_matcher(needles(), self.options.engine, meanwhile=tables)
        return PatternTable(matcher=matcher, **fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _ValueNeedles:
    """What one value registers, with its parts: masked literals, head anchors of base64 forms
    (their second anchors on demand) and the first segments of multi-line chains."""

    masks: tuple[Needle, ...]
    # (anchor, the forms it is the head of): forms that share their first characters (a core and
    # the standalone encodings that start with it) share anchors.
    heads: tuple[tuple[Needle, tuple[WrappedForm, ...]], ...]
    chains: tuple[tuple[Chain, Needle], ...]

    @cached_property
    def seconds(self) -> tuple[tuple[Needle, tuple[WrappedForm, ...]], ...]:
        """(second anchor, the forms it anchors): built only where wrapping breaks are not looked
        for instead (patterns.BREAKS_ABOVE)."""
        grouped: dict[bytes, list[WrappedForm]] = {}
        for _, forms in self.heads:
            for form in forms:
                grouped.setdefault(form.anchors[1], []).append(form)
        return tuple((Needle(anchor), tuple(forms)) for anchor, forms in grouped.items())

    @property
    def held(self) -> list[bytes]:
        """The literals whose proper prefixes ending a block are held back."""
        heads = [anchor.text for anchor, _ in self.heads]
        return [n.text for n in self.masks] + heads + [first.text for _, first in self.chains]


def _needles_of(value: bytes, min_length: int) -> _ValueNeedles:
    masks: list[Needle] = []
    heads: dict[bytes, list[WrappedForm]] = {}
    chains: list[tuple[Chain, Needle]] = []

    def add_value(value: bytes, depth: int) -> None:
        value_forms = forms_of(value, min_length)
        anchored = [f for f in value_forms.wrappable if len(f) >= 2 * MIN_ANCHOR]
        masks.extend(map(Needle, value_forms.literals.difference(anchored)))
        if anchored:
            half = anchor_length(anchored)
            for text in anchored:
                heads.setdefault(text[:half], []).append(WrappedForm(text, half))
        if value_forms.chain is not None:
            chains.append((value_forms.chain, Needle(value_forms.chain.segments[0])))
        # A JSON file's private_key is a part, and that key's lines are parts of it.
        if depth < 2:
            for part in value_forms.parts:
                add_value(part, depth + 1)

    add_value(value, 0)
    grouped = tuple((Needle(anchor), tuple(forms)) for anchor, forms in heads.items())
    return _ValueNeedles(tuple(masks), grouped, tuple(chains))
