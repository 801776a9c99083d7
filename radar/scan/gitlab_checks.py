"""`radar scan gitlab`: the detector suite over GitLab variables and CI files, plus GitLab's own risks.

The engine scans every unit the GitLab source yields (a variable as `KEY=value`, a CI file).
Then checks that need more than one text run here, on `VariableRecord`s (flags and fingerprints,
never values):

- a variable that holds a credential (its key names a secret, or the engine found one in its
  value) and is unmasked, unprotected, not hidden, or scoped to all environments (`*`): one finding
  per weakness, so each can be fixed and tracked on its own;
- the same credential value (equal fingerprints) in several places (owner, key, scope): one
  finding per value listing the places;
- CI files that use the deprecated `CI_JOB_JWT`/`CI_JOB_JWT_V2` or set `VAULT_SKIP_VERIFY` true.

Every finding carries `remediation`: where the secret should live instead (a Vault path named
after its owner and key, read with `secrets:`).

A scan configuration's `disable` drops these checks' findings by id (`CHECK_IDS`), and its path
allowlists apply to every finding (a variable's path is `variables/KEY[scope]`). Its value
allowlists apply in the engine: a variable whose value they allowlist holds no credential here,
unless its key names one.

A sharded scan (`--shard I/N`) reads part of the projects, so it cannot see a value that is
also stored where another shard reads: it leaves out the duplicate check and hands on, in its
report, the variables that check needs (`GitLabScanReport.credentials`); `radar report merge`
runs `duplicated_findings` on all shards' variables at once. So that a merged report is the
unsharded one byte for byte, both runs compute from what the report shows: names in radar's
escaped form (`printable`), findings in `report_order` and warnings sorted, none of which
depends on which shard read what.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from radar.plan.read import Migration
from radar.report.printable import printable, printable_fields
from radar.scan import ci_checks, migrated
from radar.scan.ci_checks import CI_CHECKS, JOB_JWT, SKIP_VERIFY  # noqa: F401 (radar audit ci reads them here)
from radar.scan.findings import Finding, FingerprintKey, Origin
from radar.scan.scanner import ScanOptions, ScanReport, scan_source
from radar.scan.shard import Shard
from radar.scan.sources.gitlab import DEFAULT_CONNECTIONS, GitLabSource, Scope, VariableRecord

# (rule id, the flag's name when it is wrong, severity, what to do)
_FLAG_RULES = (
    ("gitlab-variable-unmasked", "unmasked", "high", "mask it"),
    ("gitlab-variable-unprotected", "unprotected", "medium", "protect it"),
    ("gitlab-variable-not-hidden", "not hidden", "low", "hide it"),
    ("gitlab-variable-all-environments", "scoped to all environments (*)", "medium",
     "scope it to the environments that need it"),
)


@dataclass
class GitLabScanReport(ScanReport):
    # The variables holding a credential that has a fingerprint, in radar's escaped form: what the
    # duplicate check reads. Kept by sharded scans only (the unsharded scan has already used them).
    credentials: tuple[VariableRecord, ...] = field(default=())


def scan_gitlab(client, scope: Scope, options: ScanOptions, key: FingerprintKey,
                on_project: Callable[[str], None] | None = None, migration: Migration | None = None,
                shard: Shard | None = None, connections: int = DEFAULT_CONNECTIONS) -> GitLabScanReport:
    """The scan; with `migration` (a plan's `--migrated` view), also what the migration left behind;
    with `shard`, this shard's part (see the module's docstring); `connections`: projects read at once."""
    ci_findings: list[Finding] = []
    migration_problems: list[str] = []

    def on_ci_file(project: str, path: str, text: str) -> None:
        ci_findings.extend(ci_file_findings(text, project, path, key))
        if migration is not None:
            checked = migrated.check_ci_file(text, path, project, migration, key)
            ci_findings.extend(checked.findings)
            if checked.problem:
                migration_problems.append(checked.problem)

    source = GitLabSource(client, scope, key, on_ci_file=on_ci_file, on_project=on_project, shard=shard,
                          connections=connections)
    # This scan reports the CI checks itself (with the project and remediation), not the engine's pass.
    # One process unless --jobs says otherwise: this process's HTTP is the bottleneck (variables are a
    # few bytes each), and workers forked half-way copied its records: 10,000 projects took 35.3 s in
    # one process, 36.3 s with two workers, at 168 instead of 375 MB (benchmarks/scan_gitlab.py).
    scanned = scan_source(source, replace(options, ci_checks=False, jobs=options.jobs or 1), key)
    allowlists = options.config.allowlists
    findings = allowlists.apply_paths(replace(f, remediation=_remediation(f.origin, f.path)) for f in scanned.findings)
    detected = {(f.origin.project, f.origin.group, f.origin.variable_key, f.origin.environment_scope)
                for f in findings if f.origin.variable_key is not None and not f.ignored}
    checks = variable_findings(source.variables, detected)
    credentials = credential_variables(source.variables, detected)
    if shard is None:
        checks += duplicated_findings(credentials)
        credentials = ()
    checks += ci_findings
    if migration is not None:
        checks += migrated.still_defined(source.variables, migration)
    findings += allowlists.apply_paths(f for f in checks if f.rule_id not in options.config.disabled)
    warnings = list(scanned.warnings)
    if migration is not None:
        findings = migrated.reidentified(findings, migrated.variables_holding_moved_values(source.variables, migration),
                                         migration)
        warnings += migration_problems
        scanned.stats.unreadable["CI file"] += len(migration_problems)
    findings.sort(key=report_order)
    return GitLabScanReport(findings, sorted(warnings, key=printable), scanned.stats, credentials=credentials)


def report_order(f: Finding) -> tuple:
    """Where a finding goes in a GitLab scan's report: by owner, then place and rule, compared in the
    escaped form the report shows (so a merge of shard reports, which holds only that form, sorts
    alike), the fingerprint last to settle what is left."""
    owner = f.origin.project or f.origin.group or ""
    return (printable(owner), printable(f.path), f.line, f.column, f.rule_id, f.fingerprint)


def vault_path(owner: str, key: str) -> str:
    return f"{owner}/{key}" if owner else key


def _remediation(origin: Origin, path: str) -> str:
    owner = origin.project or origin.group or "instance"
    if origin.variable_key is not None:
        return f"move to Vault at {vault_path(owner, origin.variable_key)} and read it with secrets:"
    return f"remove it from {path}: move it to Vault under {owner}/ and read it with secrets:"


# Of two places with the same name (a group named `instance`), the one a scan reads first.
_KIND_ORDER = {"instance": 0, "group": 1, "project": 2}
Detected = set[tuple[str | None, str | None, str | None, str | None]]


def _holds_credential(r: VariableRecord, detected: Detected) -> tuple[bool, bool]:
    """(whether the detector suite found a credential in its value, whether the checks apply)."""
    origin = r.origin
    found = (origin.project, origin.group, r.key, r.environment_scope) in detected
    return found, found or r.names_a_secret


def credential_variables(records: Iterable[VariableRecord], detected: Detected) -> tuple[VariableRecord, ...]:
    """The variables holding a credential whose value GitLab returned (a fingerprint to compare), in
    radar's escaped form: the duplicate check's input."""
    return tuple(printable_fields(r) for r in records
                 if r.fingerprint is not None and _holds_credential(r, detected)[1])


def variable_findings(records: Iterable[VariableRecord], detected: Detected) -> list[Finding]:
    findings: list[Finding] = []
    for r in records:
        origin = r.origin
        found, applies = _holds_credential(r, detected)
        if not applies:
            continue
        weak = {
            "gitlab-variable-unmasked": not r.masked,
            "gitlab-variable-unprotected": not r.protected,
            "gitlab-variable-not-hidden": r.hidden is False,
            "gitlab-variable-all-environments": r.owner_kind != "instance" and r.environment_scope == "*",
        }
        for rule_id, flag, severity, fix in _FLAG_RULES:
            if weak[rule_id]:
                findings.append(_variable_finding(
                    r, rule_id, f"CI/CD variable holding a credential is {flag}", severity,
                    "high" if found else "medium",
                    f"{fix}, or better: {_remediation(origin, r.path)}",
                ))
    return findings


def duplicated_findings(credentials: Iterable[VariableRecord]) -> list[Finding]:
    """One `gitlab-variable-duplicated` finding per value stored in several places, from
    `credential_variables` (of one scan, or of all the shards of one)."""
    findings: list[Finding] = []
    places: dict[str, list[VariableRecord]] = defaultdict(list)
    for r in credentials:
        places[r.fingerprint or ""].append(r)
    for fingerprint, same in sorted(places.items()):
        owners = sorted({f"{r.owner}:{r.key}[{r.environment_scope}]" for r in same})
        if len(owners) < 2:
            continue
        first = min(same, key=lambda r: (r.owner, r.key, r.environment_scope, _KIND_ORDER[r.owner_kind]))
        findings.append(_variable_finding(
            first, "gitlab-variable-duplicated",
            f"the same credential is stored in {len(owners)} places: {', '.join(owners)}", "medium", "high",
            f"keep one copy in Vault at {vault_path(first.owner, first.key)} and read it with secrets: everywhere",
        ))
    return findings


def _variable_finding(r: VariableRecord, rule_id: str, description: str, severity: str, confidence: str,
                      remediation: str) -> Finding:
    return Finding(
        rule_id=rule_id, secret_type="gitlab-ci-variable", description=description, severity=severity,
        confidence=confidence, path=r.path, line=1, column=1, end_line=1, end_column=1,
        fingerprint=r.fingerprint or "", preview=r.preview, origin=r.origin, remediation=remediation, name=r.origin.variable_key,
    )


# Every check's rule id: what a scan configuration may disable or allowlist besides the detectors.
CHECK_IDS = (*(rule[0] for rule in _FLAG_RULES), "gitlab-variable-duplicated", *(check[1] for check in CI_CHECKS))


def ci_file_findings(text: str, project: str, path: str, key: FingerprintKey) -> list[Finding]:
    return ci_checks.ci_file_findings(text, path, Origin(project=project), key)
