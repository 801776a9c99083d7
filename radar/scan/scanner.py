"""Runs the engine over text units on every core and gathers findings, warnings and statistics.

Units are grouped into batches of about BATCH_BYTES (or BATCH_FILES files) and handed to a
process pool as the source yields them (the directory walk runs while workers scan); each worker
gets its engine once (with `fork`, the parent's compiled rules are
inherited). Small scans run in this process, where starting workers would cost more than it
saves. A unit that cannot be read, is binary (a NUL byte, or over 30 % control bytes, in its first
8 KiB) or is not UTF-8 never stops a scan: it becomes a warning (binary files are only counted),
and invalid UTF-8 is read as Latin-1 so ASCII credentials are still found. Equal warnings are
counted, not repeated (`radar.scan.warnings`): each batch counts its own, and the batches' counts
are added up as they come back, so a file that is not UTF-8 in 214 blobs is one line. What could not be read
is counted too (`ScanStats.unreadable`): the scan is then incomplete (`ScanReport.incomplete`),
which the CLI reports after the findings, with exit status 2. A unit whose bytes are an archive
(zip, tar, gzip, bzip2, xz: by magic bytes) is opened in the worker that read it and each member
scanned as a file at `outer!inner` (`sources.archives`, with its limits from `[archives]`), so a
history blob that is an archive is still opened once.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from radar.errors import RadarError
from radar.scan.ci_checks import ci_file_findings, is_ci_file
from radar.scan.config import NO_CONFIG, ScanConfig
from radar.scan.credential_files import credential_file_finding
from radar.scan.engine import DEFAULT_DECODE_DEPTH, Engine
from radar.scan.findings import Finding, FingerprintKey
from radar.scan.rules import RuleSet, load_default_rules
from radar.scan.sources import ignore
from radar.scan.sources.archives import ArchiveLimits, ArchiveReader, archive_kind
from radar.scan.sources.directory import DirectorySource
from radar.scan.sources.interface import Source, TextUnit, UnitReadError, UnitSkipped
from radar.scan.warnings import Warnings, counted, listed

DEFAULT_MAX_FILE_SIZE = 10_000_000
BATCH_BYTES = 4_000_000
BATCH_FILES = 256
# Below this much data one process is faster than a pool.
PARALLEL_THRESHOLD_BYTES = 2_000_000
_SNIFF = 8192
_CONTROL = bytes(range(0, 32)).translate(None, b"\t\n\r\f\b\x1b") + b"\x7f"

Progress = Callable[[int, int], None]
log = logging.getLogger("radar.scan")  # -v: what was scanned, and how


class ScanError(RadarError):
    pass


@dataclass(frozen=True)
class ScanOptions:
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False
    jobs: int = 0  # 0: one per core
    decode_depth: int = DEFAULT_DECODE_DEPTH
    gitignore: bool = True  # directory walks leave out what .gitignore does (inside a git work tree)
    config: ScanConfig = NO_CONFIG  # .radar.toml: rules added and disabled, allowlists
    ci_checks: bool = True  # the CI-file checks (`ci_checks`) on units that are CI files


@dataclass
class ScanStats:
    files: int = 0
    bytes: int = 0
    binary: int = 0
    skipped: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)  # by noun: file, directory, blob, ...

    def add(self, other: ScanStats) -> None:
        self.files += other.files
        self.bytes += other.bytes
        self.binary += other.binary
        self.skipped += other.skipped
        self.unreadable.update(other.unreadable)


@dataclass
class ScanReport:
    findings: list[Finding]
    warnings: list[str] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    cached: int = 0  # history blobs not read again: an earlier scan found them clean (--cache)

    def incomplete(self) -> str | None:
        """`2 files and 1 directory could not be read`, or None when everything asked for was read."""
        counts = [counted(n, noun) for noun, n in sorted(self.stats.unreadable.items()) if n]
        if not counts:
            return None
        listed = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " and " + counts[-1]
        return f"{listed} could not be read"


def scan_directory(root: str | os.PathLike[str], options: ScanOptions = ScanOptions(),
                   key: FingerprintKey | None = None, progress: Progress | None = None,
                   ruleset: RuleSet | None = None) -> ScanReport:
    """Scan a directory tree (or a single file); paths in findings are relative to `root`, and
    the configuration's path allowlists apply to them."""
    path = Path(root)
    if not path.exists():
        raise ScanError(f"{root}: no such file or directory")
    if not (path.is_dir() or path.is_file()):
        raise ScanError(f"{root}: not a directory or a regular file")
    source = DirectorySource(path, ignore.load(path, options.exclude), options.max_file_size, options.follow_symlinks,
                             options.gitignore)
    report = scan_source(source, options, key, progress, ruleset)
    report.findings = options.config.allowlists.apply_paths(report.findings)
    return report


def scan_paths(paths: list[str], options: ScanOptions = ScanOptions(), key: FingerprintKey | None = None,
               progress: Progress | None = None, ruleset: RuleSet | None = None) -> ScanReport:
    """Scan files, directories and `-` (standard input) as one report; paths in findings are the
    paths as given, and the current directory's `.radarignore` applies (see `sources.paths`)."""
    from radar.scan.sources.paths import PathsSource

    source = PathsSource(list(paths), ignore.load(Path("."), options.exclude), options.max_file_size,
                         options.follow_symlinks, options.gitignore)
    report = scan_source(source, options, key, progress, ruleset)
    report.findings = options.config.allowlists.apply_paths(report.findings)
    return report


def scan_staged(options: ScanOptions = ScanOptions(), key: FingerprintKey | None = None,
                progress: Progress | None = None, ruleset: RuleSet | None = None) -> tuple[str, ScanReport]:
    """Scan what the index holds for the files the next commit adds or changes (see
    `sources.staged`); the top of the work tree, which paths in findings are relative to, and the report."""
    from radar.scan.sources.git import close_readers
    from radar.scan.sources.staged import StagedSource

    source = StagedSource(".", options.exclude, options.max_file_size)
    try:
        report = scan_source(source, options, key, progress, ruleset)
    finally:
        close_readers()
    report.findings = options.config.allowlists.apply_paths(report.findings)
    return source.top, report


def scan_source(source: Source, options: ScanOptions = ScanOptions(), key: FingerprintKey | None = None,
                progress: Progress | None = None, ruleset: RuleSet | None = None,
                fork_first: bool = False) -> ScanReport:
    """`scan_units` of what `source` yields; the source's warnings come first, and the units it
    skipped are counted with the scan's."""
    report = scan_units(source.units(), options, key, progress, ruleset, fork_first)
    report.warnings[:0] = listed(source.warnings)
    report.stats.skipped += source.skipped
    report.stats.unreadable.update(source.unreadable)
    return report


def scan_units(units: Iterable[TextUnit], options: ScanOptions = ScanOptions(),
               key: FingerprintKey | None = None, progress: Progress | None = None,
               ruleset: RuleSet | None = None, fork_first: bool = False) -> ScanReport:
    """Scan units as a source yields them; the walk overlaps with the workers' scanning.

    `options.config` adds rules to `ruleset` (the shipped rules by default) and disables some, and
    its value allowlists apply; its path allowlists are the caller's to apply, who knows what a
    path stands for. `progress(done, total)` is called after each batch; `total` counts the bytes of the units
    seen so far, so it grows until the source is exhausted. `fork_first` starts the workers
    before the first unit is asked for: a source that builds a large index on its first step
    (git history) then builds it only in the parent, instead of every forked worker inheriting it.
    """
    engine = Engine(options.config.ruleset(ruleset or load_default_rules()), key or FingerprintKey.load(),
                    options.decode_depth, allowlists=options.config.allowlists)
    # The CI checks the configuration leaves on; None: not run (`radar scan gitlab` runs its own).
    ci = options.config.disabled if options.ci_checks else None
    jobs = options.jobs or os.cpu_count() or 1
    limits = options.config.archives
    pool = _start_pool(jobs, engine, ci, limits) if fork_first and jobs > 1 else None
    try:
        iterator = iter(units)
        head: list[TextUnit] = []
        head_size = 0
        for unit in iterator:
            head.append(unit)
            head_size += unit.size
            if head_size >= PARALLEL_THRESHOLD_BYTES:
                break
        seen = [len(head), head_size]

        def counted() -> Iterator[TextUnit]:
            yield from head
            for unit in iterator:
                seen[0] += 1
                seen[1] += unit.size
                yield unit

        report = ScanReport([])
        if pool is None and jobs > 1 and head_size >= PARALLEL_THRESHOLD_BYTES:
            pool = _start_pool(jobs, engine, ci, limits)
        log.info("scanning with %d rules, decode depth %d, %s", len(engine.rules), options.decode_depth,
                 f"{jobs} worker processes" if pool else "in one process (a small scan)")
        if pool is None:
            results: Iterable[_BatchResult] = (_scan_batch_with(engine, ci, b, limits) for b in _batches(counted()))
        else:
            results = pool.imap_unordered(_scan_batch, _batches(counted()))
        done = 0
        warnings = Warnings()
        for result in results:
            report.findings.extend(result.findings)
            warnings.merge(result.warnings)
            report.stats.add(result.stats)
            done += result.size
            if progress:
                progress(done, seen[1])
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    report.findings.sort(key=lambda f: f.sort_key)
    report.warnings = warnings.lines()
    return report


def _start_pool(jobs: int, engine: Engine, ci: frozenset[str] | None, limits: ArchiveLimits):
    import multiprocessing  # only when a pool starts: a small scan (a pre-commit hook's) never pays for it

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    return context.Pool(jobs, initializer=_init_worker, initargs=(engine, ci, limits))


@dataclass
class _BatchResult:
    findings: list[Finding]
    warnings: Warnings
    stats: ScanStats
    size: int


def _batches(units: Iterable[TextUnit]) -> Iterator[list[TextUnit]]:
    current: list[TextUnit] = []
    size = 0
    for unit in units:
        current.append(unit)
        size += unit.size
        if size >= BATCH_BYTES or len(current) >= BATCH_FILES:
            yield current
            current, size = [], 0
    if current:
        yield current


_worker_engine: Engine | None = None
_worker_ci: frozenset[str] | None = None
_worker_limits = ArchiveLimits()


def _init_worker(engine: Engine, ci: frozenset[str] | None, limits: ArchiveLimits) -> None:
    global _worker_engine, _worker_ci, _worker_limits
    _worker_limits = limits
    _worker_engine = engine
    _worker_ci = ci


def _scan_batch(batch: list[TextUnit]) -> _BatchResult:
    assert _worker_engine is not None
    return _scan_batch_with(_worker_engine, _worker_ci, batch, _worker_limits)


def _scan_batch_with(engine: Engine, ci_disabled: frozenset[str] | None, batch: list[TextUnit],
                     limits: ArchiveLimits = ArchiveLimits()) -> _BatchResult:
    result = _BatchResult([], Warnings(), ScanStats(), sum(u.size for u in batch))
    for unit in batch:
        unit.announce()
    for unit in batch:
        try:
            data = unit.read()
        except UnitSkipped as e:
            result.warnings.add(f"{unit.path}: skipped: {e}", unit.noun)
            result.stats.skipped += 1
            continue
        except UnitReadError as e:
            result.warnings.add(f"{unit.path}: cannot read: {e}", unit.noun)
            result.stats.skipped += 1
            result.stats.unreadable[unit.noun] += 1
            continue
        if limits.depth and archive_kind(data):
            reader = ArchiveReader(data, unit.path, limits)
            for member in reader.members():
                _scan_data(engine, ci_disabled, unit, member.path, member.data, result)
            for warning in reader.warnings:
                result.warnings.add(warning, unit.noun)
            if reader.opened:
                continue  # else not an archive after all, or not one radar can open: read as a file
        _scan_data(engine, ci_disabled, unit, unit.path, data, result)
    return result


def _scan_data(engine: Engine, ci_disabled: frozenset[str] | None, unit: TextUnit, path: str, data: bytes,
               result: _BatchResult) -> None:
    """Scan one file's (or archive member's) bytes, reported at `path`, into `result`."""
    keystore = credential_file_finding(path, data, unit.origin, engine.key, ci_disabled or ())
    if keystore is not None:
        result.findings.append(keystore)
    if is_binary(data):
        log.info("%s: skipped, binary", path)
        result.stats.binary += 1
        return
    utf8: bytes | None = data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        result.warnings.add(f"{path}: not valid UTF-8; scanned as Latin-1", unit.noun)
        text = data.decode("latin-1")
        utf8 = None  # the bytes are not the text's UTF-8 encoding
    scanned = engine.scan(text, path, unit.origin, utf8)
    result.findings.extend(scanned.findings)
    if ci_disabled is not None and is_ci_file(path):  # a name test: other files pay nothing more
        result.findings.extend(ci_file_findings(text, path, unit.origin, engine.key, ci_disabled))
    for warning in scanned.warnings:
        result.warnings.add(warning, unit.noun)
    result.stats.files += 1
    result.stats.bytes += len(data)


def is_binary(data: bytes) -> bool:
    head = data[:_SNIFF]
    if b"\0" in head:
        return True
    if not head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))
    return control / len(head) > 0.3
