"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning, Azure DevOps, IDE viewers).

One run, `tool.driver` = radar with one `reportingDescriptor` per rule that has a result (its
description, its documentation link as `helpUri`, `security-severity` and tags in `properties`).
Each finding is one result:

- `message`: what was found and its redacted preview and fingerprint prefix; never the value.
  There is no `snippet`: the line holding a secret would print it.
- `locations`: the path relative to `%SRCROOT%`, which `run.originalUriBaseIds` defines as the
  scanned directory's `file://` URI (GitLab scans: the GitLab URL, and paths start with the
  project or group). An archive member's path (`dist/app.tgz!config/creds.env`) is percent-encoded
  whole (`dist/app.tgz%21config/creds.env`): a valid relative reference that decodes to the path
  the other formats print, its region inside the member. Columns are in characters (`columnKind: unicodeCodePoints`), the end
  column is exclusive as SARIF wants (radar's `end_column` is the last character).
- `partialFingerprints["radarSecretFingerprint/v1"]`: radar's HMAC fingerprint, so a dashboard
  tracks a secret across line moves and sees equal secrets as one.
- history findings: the first commit that added the value is the location; every other place
  it was committed is a `relatedLocation`; commit, in_head and the location count are in
  `properties`.
- ignored findings (`--show-ignored`) carry a `suppression` (`inSource`, or `external` for a
  baseline's, with the ignore reason).
- a finding whose value Vault holds (`--vault-index`) lists the places in `properties.inVault`
  (namespace, mount, path, field, version, latest).

GitHub's upload limits are honoured: at most `MAX_RESULTS` results (the most severe are kept;
the cut is noted in `invocations[0].toolExecutionNotifications` and returned by `warnings()`),
`MAX_LOCATIONS` related locations per result and `MAX_TAGS` tags per rule or result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import quote

from radar.report import check_rule, detector_rule
from radar.report.ci_levels import finding_level, rank
from radar.report.context import PROJECT_URL, ReportContext, sarif_time
from radar.scan.baseline import is_baselined
from radar.scan.findings import Finding
from radar.scan.rules import CONFIDENCES, SEVERITIES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "radarSecretFingerprint/v1"
# GitHub code scanning's documented limits for one uploaded run.
MAX_RESULTS = 25_000
MAX_LOCATIONS = 1_000
MAX_TAGS = 20
# GitHub maps security-severity to its levels: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium,
# 0.1-3.9 low. A value in the middle of each band keeps the mapping clear of the edges; info has
# no band of its own and sits below low's value in the low band.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "1.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SEVERITY_RANK = {s: n for n, s in enumerate(SEVERITIES)}  # critical first
_CONFIDENCE_RANK = {c: n for n, c in enumerate(CONFIDENCES)}  # most confident first


@dataclass(frozen=True)
class Selection:
    """The results that fit in one run, most severe first, and how many were left out."""

    kept: tuple[Finding, ...]
    dropped: int

    @property
    def notice(self) -> str | None:
        if not self.dropped:
            return None
        return (f"SARIF report truncated to {len(self.kept)} results, GitHub's limit for one run: "
                f"{self.dropped} less severe finding(s) left out; use --format json for all of them.")


def select(findings: Sequence[Finding], context: ReportContext, limit: int = MAX_RESULTS) -> Selection:
    """Keep the `limit` most urgent findings as the report shows them (level lowered for
    confidence), then by severity, confidence and place."""
    ranked = sorted(findings, key=lambda f: (rank(finding_level(f, context)),
                                            _SEVERITY_RANK.get(f.severity, len(SEVERITIES)),
                                            _CONFIDENCE_RANK.get(f.confidence, len(CONFIDENCES)), f.sort_key))
    return Selection(tuple(ranked[:limit]), max(0, len(ranked) - limit))


def warnings(findings: Sequence[Finding], context: ReportContext) -> tuple[str, ...]:
    """What a user must hear on standard error about this report (the truncation, if any)."""
    notice = select(findings, context).notice
    return (notice,) if notice else ()


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return json.dumps(document(findings, context), indent=2, ensure_ascii=False) + "\n"


def document(findings: Sequence[Finding], context: ReportContext, limit: int = MAX_RESULTS) -> dict:
    selection = select(findings, context, limit)
    rule_ids = sorted({f.rule_id for f in selection.kept})
    index = {rule_id: n for n, rule_id in enumerate(rule_ids)}
    invocation: dict = {
        # SARIF: false when the tool could not analyse everything it was asked to.
        "executionSuccessful": context.incomplete is None,
        "startTimeUtc": sarif_time(context.started),
        "endTimeUtc": sarif_time(context.finished),
    }
    notices = [("warning", _sentence(w)) for w in context.warnings]
    if selection.notice:
        notices.append(("warning", selection.notice))
    if context.incomplete:
        notices.append(("error", _sentence(f"scan incomplete: {context.incomplete}")))
    if notices:
        invocation["toolExecutionNotifications"] = [
            {"level": level, "message": {"text": text}} for level, text in notices
        ]
    run = {
        "tool": {"driver": {
            "name": "radar",
            "version": context.tool_version,
            "semanticVersion": context.tool_version,
            "informationUri": PROJECT_URL,
            "rules": [_descriptor(rule_id, [f for f in selection.kept if f.rule_id == rule_id], context)
                      for rule_id in rule_ids],
        }},
        "invocations": [invocation],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": _base_uri(context)}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id], finding_level(f, context)) for f in selection.kept],
        "properties": {"scanKind": context.kind, "summary": dict(context.summary)},
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _base_uri(context: ReportContext) -> str:
    if context.kind == "gitlab":
        return context.root.rstrip("/") + "/"
    # file:///abs/path/ with each segment percent-encoded (spaces, '#', non-ASCII are legal in paths).
    return "file://" + quote(context.root.rstrip("/"), safe="/") + "/"


def _uri(f: Finding) -> str:
    owner = f.origin.project or f.origin.group  # GitLab findings: the path is inside this owner
    path = f"{owner}/{f.path}" if owner else f.path
    return _relative_uri(path)


def _relative_uri(path: str) -> str:
    # A path segment like "a:b" would read as a URI scheme; "./" keeps the reference relative.
    encoded = quote(path.lstrip("/"), safe="/")
    return "./" + encoded if ":" in encoded.split("/", 1)[0] else encoded


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _pascal(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part)


def _descriptor(rule_id: str, findings: list[Finding], context: ReportContext) -> dict:
    rule = detector_rule(rule_id, context.added_rules)
    check = None if rule else check_rule(rule_id)
    sample = findings[0]
    # GitHub reads security-severity from the rule, not the result: the rule's most urgent result
    # decides, so a rule that only guessed (low confidence) is not shown as critical. A monitor
    # report's levels are per finding (the ladder): its rules keep their own severity.
    if rule and context.monitor is not None:
        severity = rule.severity
    else:
        severity = min((finding_level(f, context) for f in findings), key=rank)
    description = rule.description if rule else check.description if check else sample.description
    secret_type = rule.secret_type if rule else sample.secret_type
    remedy = ("Revoke or rotate the credential at its provider, then move it to Vault and read it in CI with "
              "`secrets:`; a value that stays in git history stays exposed until it is rotated.")
    if check is not None:
        remedy = check.help
    elif rule is None and sample.remediation:
        remedy = _sentence(sample.remediation[:1].upper() + sample.remediation[1:])
    tags = ["security", "secret", secret_type] + ([rule.kind] if rule else [])
    descriptor: dict = {
        "id": rule_id,
        "name": _pascal(rule_id),
        "shortDescription": {"text": _sentence(description)},
        "fullDescription": {"text": _sentence(
            f"{description} ({secret_type}) found by radar's rule {rule_id}. The report shows a redacted "
            "preview and a keyed fingerprint, never the value")},
        "help": {"text": remedy, "markdown": remedy},
        "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "tags": list(dict.fromkeys(tags))[:MAX_TAGS],
            "precision": {"high": "high", "medium": "medium", "low": "low"}.get(
                rule.confidence if rule else sample.confidence, "medium"),
        },
    }
    if rule and rule.docs:
        descriptor["helpUri"] = rule.docs
    elif check and check.docs:
        descriptor["helpUri"] = check.docs
    return descriptor


def _region(line: int, column: int, end_line: int, end_column: int) -> dict:
    start_line, start_column = max(1, line), max(1, column)
    last_line = max(start_line, end_line)
    # SARIF's endColumn is one past the last character; radar's end_column is the last character.
    last_column = end_column + 1 if last_line > start_line else max(start_column + 1, end_column + 1)
    return {"startLine": start_line, "startColumn": start_column, "endLine": last_line, "endColumn": last_column}


def _message(f: Finding) -> str:
    if f.origin.variable_key is not None:  # a GitLab variable's name is its key
        where = f" in CI/CD variable {f.origin.variable_key}"
    else:
        where = f" assigned to {f.name}" if f.name else ""
    return (f"{_sentence(f.description)[:-1]}{where} (preview {f.preview}, fingerprint {f.fingerprint[:12]}).")


def _result(f: Finding, rule_index: int, level: str) -> dict:
    result: dict = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL.get(level, "warning"),
        "message": {"text": _message(f)},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(f), "uriBaseId": "%SRCROOT%"},
            "region": _region(f.line, f.column, f.end_line, f.end_column),
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    }
    properties: dict = {"severity": f.severity, "confidence": f.confidence, "secretType": f.secret_type,
                        "preview": f.preview, "tags": list(dict.fromkeys(f.tags))[:MAX_TAGS]}  # a set in SARIF
    if f.name:
        properties["name"] = f.name
    properties.update({k: v for k, v in f.origin.as_dict().items() if k != "blob"})
    if f.history is not None:
        others = [loc for loc in f.history.locations
                  if (loc.path, loc.line, loc.commit) != (f.path, f.line, f.origin.commit)]
        related = [{
            "id": n,
            "physicalLocation": {
                "artifactLocation": {"uri": _relative_uri(loc.path), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": max(1, loc.line)},
            },
            "message": {"text": f"Also committed in {loc.commit[:12]} ({loc.date})."},
        } for n, loc in enumerate(others[:MAX_LOCATIONS], 1)]
        if related:
            result["relatedLocations"] = related
        # origin's commit/author/date above are the first commit that added the value.
        properties.update({"inHead": f.history.in_head, "locationCount": len(f.history.locations)})
        if len(others) > MAX_LOCATIONS:
            properties["relatedLocationsOmitted"] = len(others) - MAX_LOCATIONS
    if f.in_vault:  # where Vault holds the same value (--vault-index), latest first
        properties["inVault"] = [place.as_dict() for place in f.in_vault]
    if f.ignored:
        # A baseline is kept outside the scanned files: SARIF's "external" suppression.
        result["suppressions"] = [{"kind": "external" if is_baselined(f) else "inSource", "status": "accepted",
                                   "justification": f.ignore_reason or "suppressed in the source"}]
    result["properties"] = properties
    return result
