"""`radar report merge`: the shard reports of one sharded GitLab scan, joined into the report the
unsharded scan would have written.

Each shard (`radar scan gitlab --shard I/N --format json`) read its own projects; shard 1 also
read the variables of groups and of the instance. So every finding but one kind is in exactly
one shard's report, and the merge takes them as they are. The exception is the same credential
stored in places that different shards read (`gitlab-variable-duplicated`): no shard could see
it, so each shard's report carries its CI/CD variables that hold a credential (owner, key, scope,
flags, fingerprint; never a value) and the merge runs the scan's own duplicate check
(`radar.scan.gitlab_checks.duplicated_findings`) over all of them at once. Summary counts are
added up (the finding count is taken from the merged findings), warnings and what could not be
read are joined, and the merged scan started when the first shard started and finished when the
last one finished. Findings are put in the scan's own order (`report_order`), so the merged
report equals the unsharded one byte for byte, timestamps apart, in every format.

The inputs must be every shard of one scan, once each: the same N, each I from 1 to N, the same
GitLab, scope, radar version and fingerprint key (fingerprints made with different keys never
match, so duplicates would go unseen). Anything else is a `ReportError` naming the files. One
report that is not a shard is given back as it is, so merging is idempotent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from radar.plan.load import ReportError, finding_from_dict
from radar.report.context import ReportContext
from radar.report.printable import printable
from radar.scan.findings import Finding
from radar.scan.gitlab_checks import duplicated_findings, report_order
from radar.scan.scanner import ScanReport, ScanStats
from radar.scan.shard import MAX_SHARDS
from radar.scan.sources.gitlab import VariableRecord, variable_path

DUPLICATED = "gitlab-variable-duplicated"
_SAME = (("kind", "scanned different kinds of target"), ("target", "scanned different GitLab addresses"),
         ("root", "scanned different GitLab addresses"), ("radar_version", "were made by different radar versions; "
                                                                           "run every shard with the same radar"))


@dataclass(frozen=True)
class MergedReport:
    findings: tuple[Finding, ...]
    context: ReportContext


def merge_reports(documents: Sequence[tuple[str, dict[str, Any]]]) -> MergedReport:
    """Merge `(path, document)` pairs of reports that follow radar's JSON schema (see the module)."""
    if not documents:
        raise ReportError("no report to merge")
    unsharded = [path for path, document in documents if "shard" not in document]
    if len(documents) == 1 and unsharded:
        return _as_it_is(*documents[0])
    if unsharded:
        raise ReportError(f"{unsharded[0]}: not a shard report (made without --shard): radar report merge joins the "
                          "reports of every shard of one `radar scan gitlab --shard I/N` run, or gives back one report")
    ordered = _check_shards(documents)
    first = ordered[0][1]
    findings = [finding_from_dict(item) for _, document in ordered for item in document["findings"]
                if item["rule_id"] != DUPLICATED]  # shards leave them out; computed below from every shard
    findings += duplicated_findings(_credential(item) for _, document in ordered
                                    for item in document["shard"]["credentials"])
    findings.sort(key=report_order)
    unreadable: Counter[str] = Counter()
    for _, document in ordered:
        unreadable.update(document["shard"]["unreadable"])
    incomplete = ScanReport([], stats=ScanStats(unreadable=unreadable)).incomplete()
    if incomplete is None and not all(d["scan"].get("complete", True) for _, d in ordered):
        incomplete = "a shard's scan could not read everything"
    warnings = sorted((w for _, d in ordered for w in d["shard"]["warnings"]), key=printable)
    scan = first["scan"]
    return MergedReport(tuple(findings), ReportContext(
        kind=scan["kind"], target=scan["target"], root=scan["root"],
        started=min(_moment(d, "started", path) for path, d in ordered),
        finished=max(_moment(d, "finished", path) for path, d in ordered),
        summary=_summary(findings, [d["summary"] for _, d in ordered]), warnings=tuple(warnings),
        tool_version=scan["radar_version"], incomplete=incomplete, fingerprint_key_id=scan["fingerprint_key_id"],
    ))


def _as_it_is(path: str, document: dict[str, Any]) -> MergedReport:
    scan, summary = document["scan"], document["summary"]
    incomplete = None
    if not scan.get("complete", True):
        unreadable = summary.get("unreadable", 0)
        incomplete = (ScanReport([], stats=ScanStats(unreadable=Counter({"item": unreadable}))).incomplete()
                      or "the scan could not read everything")
    return MergedReport(tuple(map(finding_from_dict, document["findings"])), ReportContext(
        kind=scan["kind"], target=scan["target"], root=scan["root"], started=_moment(document, "started", path),
        finished=_moment(document, "finished", path), summary=dict(summary), tool_version=scan["radar_version"],
        incomplete=incomplete, fingerprint_key_id=scan.get("fingerprint_key_id"),
    ))


def _check_shards(documents: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The documents in shard order, once they are known to be every shard of one scan."""
    first_path, first = documents[0]
    total = first["shard"]["total"]
    by_index: dict[int, str] = {}
    for path, document in documents:
        shard, scan = document["shard"], document["scan"]
        if shard["total"] > MAX_SHARDS:  # checked first: the merge looks for every index up to it
            raise ReportError(f"{path}: shard.total is {shard['total']}, more than {MAX_SHARDS} (GitLab's bound for "
                              "parallel: N, and radar's for --shard): not a shard report radar wrote")
        if shard["total"] != total or not 1 <= shard["index"] <= shard["total"]:
            raise ReportError(f"{path} is shard {shard['index']}/{shard['total']} but {first_path} is shard "
                              f"{first['shard']['index']}/{total}: not shards of one scan")
        if shard["index"] in by_index:
            raise ReportError(f"shard {shard['index']}/{total} is given twice: {by_index[shard['index']]} and {path}")
        by_index[shard["index"]] = path
        for key, why in _SAME:
            if scan[key] != first["scan"][key]:
                raise ReportError(f"{first_path} and {path} {why}: not shards of one scan")
        if shard["scope"] != first["shard"]["scope"]:
            raise ReportError(f"{first_path} and {path} scanned different groups or projects (--group, --project, "
                              "--instance, --include-subgroups, --skip-archived): not shards of one scan")
        key_id, first_key_id = scan.get("fingerprint_key_id"), first["scan"].get("fingerprint_key_id")
        if key_id is None:
            raise ReportError(f"{path}: says nothing of its fingerprint key (scan.fingerprint_key_id): "
                              "make every shard's report with this radar")
        if key_id != first_key_id:
            raise ReportError(f"{first_path} and {path} were made with different fingerprint keys (ids {first_key_id} "
                              f"and {key_id}), so equal secrets have different fingerprints: set RADAR_FINGERPRINT_KEY "
                              "to one key for every shard (a masked, protected CI/CD variable)")
        if list(document["summary"]) != list(first["summary"]):
            raise ReportError(f"{first_path} and {path} count different things in their summary: not shards of one scan")
    missing = [str(i) for i in range(1, total + 1) if i not in by_index]
    if missing:
        raise ReportError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {total} "
                          f"{'are' if len(missing) > 1 else 'is'} missing: the merge needs every shard's report "
                          "(did a parallel job fail before writing its report?)")
    paths = dict((path, document) for path, document in documents)
    return [(by_index[i], paths[by_index[i]]) for i in range(1, total + 1)]


def _credential(item: dict[str, Any]) -> VariableRecord:
    return VariableRecord(
        owner_kind=item["owner_kind"], owner=item["owner"], key=item["key"],
        environment_scope=item["environment_scope"], variable_type=item["variable_type"],
        protected=item["protected"], masked=item["masked"], hidden=item["hidden"], fingerprint=item["fingerprint"],
        preview=item["preview"], path=variable_path(item["owner_kind"], item["key"], item["environment_scope"]),
        owner_id=None if item.get("owner_id") is None else int(item["owner_id"]),
    )


def _summary(findings: Sequence[Finding], summaries: Sequence[dict[str, int]]) -> dict[str, int]:
    """The shards' counts added up, in the scan's key order; the finding count of the merged findings."""
    total = {key: sum(int(s[key]) for s in summaries) for key in summaries[0]}
    total["findings"] = sum(not f.ignored for f in findings)
    return total


def _moment(document: dict[str, Any], which: str, path: str) -> datetime:
    # The schema checks the form only: `2024-13-45T99:00:00Z` passes it.
    text = document["scan"][which]
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ReportError(f"{path}: scan.{which} is {text}, not a time that exists; give the report as radar "
                          "wrote it") from None
