"""`radar scan REPO --history`: scan each unique blob once, then report one finding per secret value.

The scan itself is the directory scan's (`scanner.scan_source`) over the `sources.git` source. What
this module adds is attribution. Findings are grouped by fingerprint (equal values, wherever
they are); each group becomes one finding:

- named by the highest-ranked rule that matched the value (rule priority, so a provider rule
  beats a generic one, then confidence), at that rule's position in the earliest commit that
  introduced a blob where it matched;
- `locations`: every (path, line, commit) that introduced a blob holding the value, oldest first;
- `first_seen` / `commit`: the earliest of those commits by committer date;
- `in_head`: whether a blob holding the value is in the tree of the default branch's tip
  (`origin/HEAD` when the clone has it, else `HEAD`); with `--since-commit` this only looks at
  blobs added after that commit;
- a finding inside an archive blob keeps its member at every location
  (`dist/app.tgz!config/creds.env`, with the blob's path in that commit);
- ignored only when every occurrence was suppressed inline or allowlisted by value, or when every
  location is under a path the scan configuration allowlists for the finding's rule.

Paths excluded by `--exclude` or `.radarignore` never reach attribution: the source drops them as
it reads history (see `sources.git`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from radar.scan import clean_blobs
from radar.scan.config import Allowlists
from radar.scan.findings import CONFIDENCE_RANK, Finding, FingerprintKey, History, Location, Origin
from radar.scan.rules import RuleSet, load_default_rules
from radar.scan.scanner import Progress, ScanOptions, ScanReport, scan_source
from radar.scan.sources.git import GitHistorySource, RefSelection, close_readers, object_count
from radar.scan.warnings import listed


# A history of up to this many objects is scanned in one process: forking workers, each compiling
# the expressions it meets, costs more than it saves there (measured on requests-shaped histories:
# 928 objects 0.36 s in one process against 0.45 s with two workers, betterleaks 0.35 s; 2,393
# objects 0.47 against 0.55 s; even at 7,258; two workers ahead from 17,783 objects on).
SMALL_HISTORY_OBJECTS = 5_000


def scan_history(repo: str, selection: RefSelection = RefSelection(), options: ScanOptions = ScanOptions(),
                 key: FingerprintKey | None = None, progress: Progress | None = None,
                 ruleset: RuleSet | None = None, cache: bool = False) -> ScanReport:
    """`cache`: skip the blobs an earlier scan with the same setup found clean, and remember the
    ones this scan finds clean (`radar.scan.clean_blobs`)."""
    ruleset = ruleset or load_default_rules()
    key = key or FingerprintKey.load()
    source = GitHistorySource(repo, selection, options.max_file_size, options.exclude)
    try:
        # git log runs while the engine and the workers are made; the workers fork before
        # units() reads the history, so only this process holds its index.
        source.start()
        if not options.jobs and object_count(source.repo) <= SMALL_HISTORY_OBJECTS:
            options = replace(options, jobs=1)
        known = None
        if cache:
            known = clean_blobs.load((tuple(r.id for r in ruleset.rules), replace(options.config, source=None),
                                      options.max_file_size, options.decode_depth), key)
            source.known_clean = known.holds
        report = scan_source(source, options, key, progress, ruleset, fork_first=True)
    finally:
        source.close()
        close_readers()
    if known is not None:
        report.cached = source.cached
        # Only a scan that read everything and warned of nothing but what the source itself says
        # (submodules, blobs over the size limit: never handed out) may call a blob clean.
        own = set(listed(source.warnings))
        if report.incomplete() is None and all(w in own for w in report.warnings):
            found = {f.origin.blob for f in report.findings}
            known.remember((b, p) for b, p in source.yielded if b not in found)
    priority = {rule.id: rule.priority for rule in options.config.ruleset(ruleset).rules}
    report.findings = attribute(report.findings, source, priority, options.config.allowlists)
    return report


def attribute(findings: Sequence[Finding], source: GitHistorySource, priority: dict[str, int],
              allowlists: Allowlists = Allowlists()) -> list[Finding]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.fingerprint, []).append(finding)
    merged = (_merge(group, source, priority) for group in groups.values())
    return sorted((_allowlisted(f, allowlists) for f in merged), key=lambda f: f.sort_key)


def _allowlisted(finding: Finding, allowlists: Allowlists) -> Finding:
    """The finding, ignored when the configuration allowlists every path it was committed under."""
    if finding.ignored or not allowlists or finding.history is None:
        return finding
    reasons = []
    for location in finding.history.locations:
        reason = allowlists.path_reason(finding.rule_id, location.path)
        if reason is None:
            return finding
        reasons.append(reason)
    return replace(finding, ignored=True, ignore_reason=reasons[0]) if reasons else finding


def _merge(group: list[Finding], source: GitHistorySource, priority: dict[str, int]) -> Finding:
    commits = source.commits

    def age(finding: Finding) -> tuple:
        first = source.first_introduction(finding.origin.blob or "")
        return (source.age(first.commit), first.path, finding.line)

    live = [f for f in group if not f.ignored] or group
    best = max(priority.get(f.rule_id, 0) for f in live)
    best_confidence = max(CONFIDENCE_RANK[f.confidence] for f in live if priority.get(f.rule_id, 0) == best)
    chosen = min((f for f in live if priority.get(f.rule_id, 0) == best
                  and CONFIDENCE_RANK[f.confidence] == best_confidence), key=age)

    places: dict[tuple[str, int, int], None] = {}
    for finding in group:
        member = _member(finding, source)
        for introduction in source.introductions[finding.origin.blob or ""]:
            places[(introduction.path + member, finding.line, introduction.commit)] = None
    ordered = sorted(places, key=lambda p: (source.age(p[2]), p[0], p[1]))
    locations = tuple(Location(path, line, commits[c].id, commits[c].author, commits[c].date)
                      for path, line, c in ordered)
    first = locations[0]
    in_head = any(f.origin.blob in source.head_blobs for f in group)
    chosen_place = source.first_introduction(chosen.origin.blob or "")
    return replace(
        chosen,
        path=chosen_place.path + _member(chosen, source),
        ignored=all(f.ignored for f in group),
        ignore_reason=chosen.ignore_reason if all(f.ignored for f in group) else None,
        origin=Origin(commit=first.commit, author=first.author, date=first.date, blob=chosen.origin.blob),
        history=History(in_head, locations),
    )


def _member(finding: Finding, source: GitHistorySource) -> str:
    """`!config/creds.env` when the finding is inside an archive blob (its path is the blob's first
    path and the member), else "": the same member is at that place in every commit with the blob."""
    return finding.path[len(source.first_introduction(finding.origin.blob or "").path):]
