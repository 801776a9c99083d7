"""GitLab's secret-detection report (`gl-secret-detection-report.json`, schema 15.2.1).

A job that keeps this file as `artifacts:reports:secret_detection` puts radar's findings in
GitLab's merge-request widget, pipeline security tab and vulnerability report. Each finding is
one vulnerability:

- `id`: a UUID5 of the fingerprint and the place (path, line, commit), so the same secret at the
  same place keeps its id from one pipeline to the next;
- `name`: what the rule finds (no finding-specific detail, as the schema asks), `description`
  (Markdown: where, the redacted preview, the fingerprint; for history findings the first commit
  and whether the value is still in HEAD), `severity` capitalised as GitLab spells it (the
  rule's severity lowered for the finding's confidence: radar.report.ci_levels),
  `solution` (rotate and move to Vault; for a value only in history: rotate, then remove it from
  history), `identifiers` (the radar rule id, with its documentation link);
- `location`: `file`, `start_line`, `end_line` and always `commit.sha`: the finding's commit for
  history scans, HEAD of the repository around the scanned directory otherwise, and GitLab's own
  analyzer's placeholder `0000000` when there is no commit to name (a plain directory, a GitLab
  CI/CD variable);
- `details`: fingerprint, preview, confidence, tags, every history location and, with
  `--vault-index`, every place Vault holds the value (`in_vault`; the description says so too);
- ignored findings (`--show-ignored`) carry a `flagged-as-likely-false-positive` flag with the
  ignore reason.

No `raw_source_code_extract`: the line would hold the secret. Times are `yyyy-mm-ddThh:mm:ss` UTC.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from typing import Sequence

from radar.report import check_rule, detector_rule
from radar.report.ci_levels import finding_level
from radar.report.context import PROJECT_URL, ReportContext, gitlab_time
from radar.scan.findings import Finding

SCHEMA_VERSION = "15.2.1"
SCHEMA_URL = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
              f"v{SCHEMA_VERSION}/dist/secret-detection-report-format.json")
# GitLab's secrets analyzer reports this sha when it scanned no commit.
NO_COMMIT = "0000000"
# The namespace of vulnerability ids: fixed, so ids are stable across runs and machines.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "radar/gitlab-secret-detection-report")
_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
_TOOL = {"id": "radar", "name": "radar", "url": PROJECT_URL, "vendor": {"name": "radar"}}


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return json.dumps(document(findings, context), indent=2, ensure_ascii=False) + "\n"


def document(findings: Sequence[Finding], context: ReportContext) -> dict:
    head = head_commit(context.root) if context.kind == "directory" else None
    scan: dict = {
        "analyzer": {**_TOOL, "version": context.tool_version},
        "scanner": {**_TOOL, "version": context.tool_version},
        "type": "secret_detection",
        "start_time": gitlab_time(context.started),
        "end_time": gitlab_time(context.finished),
        # A scan that could not read everything is a failure for GitLab too (radar exits 2); the
        # schema's `warn` level is for "a partial error", which is what each unreadable item is.
        "status": "failure" if context.incomplete else "success",
    }
    messages = [w for w in context.warnings if w]
    if context.incomplete:
        messages.append(f"scan incomplete: {context.incomplete}")
    if messages:
        scan["messages"] = [{"level": "warn", "value": w} for w in messages]
    return {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": scan,
        "vulnerabilities": [_vulnerability(f, head or NO_COMMIT, context) for f in findings],
    }


def head_commit(root: str) -> str | None:
    """HEAD of the git work tree that contains `root`, or None (not a repository, no commit, no git)."""
    try:
        done = subprocess.run(["git", "-C", root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and sha else None


def _file(f: Finding) -> str:
    owner = f.origin.project or f.origin.group  # GitLab scans: the path is inside this owner
    return f"{owner}/{f.path}" if owner else f.path


def solution(f: Finding) -> str:
    """What to do about a finding, in one or two sentences (GitLab's `solution`; notifications use it too)."""
    if f.remediation:
        text = f.remediation[:1].upper() + f.remediation[1:]
        # GitLab checks' remedies may end in a keyword such as `secrets:`; a full stop would garble it.
        return text if text.endswith((".", "!", "?", ":")) else text + "."
    if f.history is not None and not f.history.in_head:
        return ("Rotate the credential at its provider now: it was removed from the files but stays "
                "readable in every clone of the history. Then remove it from the history (git filter-repo) "
                "and keep the new value in Vault, read in CI with `secrets:`.")
    return ("Rotate the credential at its provider, remove it from the file and keep the new value in "
            "Vault, read in CI jobs with `secrets:` (vault: path/field@mount).")


def code_span(text: str) -> str:
    """`text` as a Markdown code span, shown literally: GitLab renders `description` as Markdown,
    and a backtick in a scanned file name would otherwise end the span and let the rest of the name
    be read as links or images. Such a span's fence is one backtick longer than the longest run
    inside, and padded with the one space on each side that CommonMark strips."""
    if "`" not in text and text.strip() == text:
        return f"`{text}`"
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence} {text} {fence}"


def _description(f: Finding, where: str) -> str:
    lines = [f"{f.description} in {code_span(where)}"
             + (f", assigned to {code_span(f.name)}" if f.name else "") + ".",
             "", f"Preview: {code_span(f.preview)}; fingerprint `{f.fingerprint[:12]}`; confidence {f.confidence}."]
    if f.history is not None:
        lines.append(f"First committed in {f.origin.commit} ({f.origin.date}); "
                     + ("still in HEAD." if f.history.in_head else "no longer in HEAD: only in history.")
                     + f" {len(f.history.locations)} location(s) in history.")
    if f.in_vault:
        lines.append("In Vault: " + ", ".join(code_span(place.label()) for place in f.in_vault[:5])
                     + (f" and {len(f.in_vault) - 5} more place(s)" if len(f.in_vault) > 5 else "") + ".")
    return "\n".join(lines)


def _details(f: Finding) -> dict:
    items: dict = {
        "fingerprint": {"name": "Fingerprint (HMAC-SHA256)", "type": "text", "value": f.fingerprint},
        "preview": {"name": "Preview", "type": "text", "value": f.preview},
        "confidence": {"name": "Confidence", "type": "text", "value": f.confidence},
    }
    if f.tags:
        items["tags"] = {"name": "Tags", "type": "list",
                         "items": [{"type": "text", "value": t} for t in f.tags]}
    if f.history is not None:
        items["in_head"] = {"name": "Still in HEAD", "type": "text", "value": "yes" if f.history.in_head else "no"}
        if f.origin.commit:
            items["first_commit"] = {"name": "First commit", "type": "commit", "value": f.origin.commit}
        items["locations"] = {"name": "Locations in history", "type": "list", "items": [
            {"type": "text", "value": f"{loc.path}:{loc.line} in {loc.commit} ({loc.date})"}
            for loc in f.history.locations
        ]}
    if f.in_vault:
        items["in_vault"] = {"name": "In Vault", "type": "list",
                             "items": [{"type": "text", "value": place.label()} for place in f.in_vault]}
    return items  # the schema types `details` as the named list's items, not the list itself


def _vulnerability(f: Finding, head: str, context: ReportContext) -> dict:
    rule = detector_rule(f.rule_id, context.added_rules)
    check = None if rule else check_rule(f.rule_id)
    where = _file(f)
    sha = f.origin.commit if f.history is not None and f.origin.commit else head
    identifier: dict = {"type": "radar_rule_id", "name": f"radar rule {f.rule_id}", "value": f.rule_id}
    if rule and rule.docs:
        identifier["url"] = rule.docs
    elif check and check.docs:
        identifier["url"] = check.docs
    commit: dict = {"sha": sha}
    if f.history is not None:
        commit.update({k: v for k, v in (("author", f.origin.author), ("date", f.origin.date)) if v})
    vulnerability: dict = {
        "id": str(uuid.uuid5(_ID_NAMESPACE, f"{f.fingerprint}\0{where}\0{f.line}\0{sha}\0{f.rule_id}")),
        "category": "secret_detection",
        "name": (rule.description if rule else check.description if check else f.description)[:255],
        "description": _description(f, where),
        "severity": _SEVERITY.get(finding_level(f, context), "Unknown"),  # lowered for confidence
        "solution": solution(f)[:7000],
        "identifiers": [identifier],
        "location": {"file": where, "start_line": f.line, "end_line": max(f.line, f.end_line), "commit": commit},
        "details": _details(f),
    }
    if rule and rule.docs:
        vulnerability["links"] = [{"name": f"{rule.secret_type} format", "url": rule.docs}]
    if f.ignored:
        vulnerability["flags"] = [{"type": "flagged-as-likely-false-positive", "origin": "radar",
                                   "description": f.ignore_reason or "suppressed in the source"}]
    return vulnerability
