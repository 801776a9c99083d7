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
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Callable, Iterable

import regex

from radar.plan.read import Migration
from radar.scan import migrated
from radar.scan.findings import Finding, FingerprintKey, Origin, preview
from radar.scan.scanner import ScanOptions, ScanReport, scan_source
from radar.scan.sources.gitlab import GitLabSource, Scope, VariableRecord

_JOB_JWT = regex.compile(r"(?<![A-Za-z0-9_])CI_JOB_JWT(?:_V[12])?(?![A-Za-z0-9_])")
_SKIP_VERIFY = regex.compile(r"""(?i)VAULT_SKIP_VERIFY["']?[ \t]*[:=][ \t]*["']?(?:true|1|yes|on)(?![A-Za-z0-9_])""")
# (rule id, the flag's name when it is wrong, severity, what to do)
_FLAG_RULES = (
    ("gitlab-variable-unmasked", "unmasked", "high", "mask it"),
    ("gitlab-variable-unprotected", "unprotected", "medium", "protect it"),
    ("gitlab-variable-not-hidden", "not hidden", "low", "hide it"),
    ("gitlab-variable-all-environments", "scoped to all environments (*)", "medium",
     "scope it to the environments that need it"),
)


def scan_gitlab(client, scope: Scope, options: ScanOptions, key: FingerprintKey,
                on_project: Callable[[str], None] | None = None, migration: Migration | None = None) -> ScanReport:
    """The scan; with `migration` (a plan's `--migrated` view), also what the migration left behind."""
    ci_findings: list[Finding] = []
    migration_problems: list[str] = []

    def on_ci_file(project: str, path: str, text: str) -> None:
        ci_findings.extend(ci_file_findings(text, project, path, key))
        if migration is not None:
            checked = migrated.check_ci_file(text, path, project, migration, key)
            ci_findings.extend(checked.findings)
            if checked.problem:
                migration_problems.append(checked.problem)

    source = GitLabSource(client, scope, key, on_ci_file=on_ci_file, on_project=on_project)
    report = scan_source(source, options, key)
    allowlists = options.config.allowlists
    findings = allowlists.apply_paths(replace(f, remediation=_remediation(f.origin, f.path)) for f in report.findings)
    detected = {(f.origin.project, f.origin.group, f.origin.variable_key, f.origin.environment_scope)
                for f in findings if f.origin.variable_key is not None and not f.ignored}
    checks = variable_findings(source.variables, detected) + ci_findings
    if migration is not None:
        checks += migrated.still_defined(source.variables, migration)
    findings += allowlists.apply_paths(f for f in checks if f.rule_id not in options.config.disabled)
    if migration is not None:
        findings = migrated.reidentified(findings, migrated.variables_holding_moved_values(source.variables, migration),
                                         migration)
        report.warnings.extend(migration_problems)
        report.stats.unreadable["CI file"] += len(migration_problems)
    findings.sort(key=lambda f: ((f.origin.project or f.origin.group or ""), *f.sort_key))
    report.findings = findings
    return report


def vault_path(owner: str, key: str) -> str:
    return f"{owner}/{key}" if owner else key


def _remediation(origin: Origin, path: str) -> str:
    owner = origin.project or origin.group or "instance"
    if origin.variable_key is not None:
        return f"move to Vault at {vault_path(owner, origin.variable_key)} and read it with secrets:"
    return f"remove it from {path}: move it to Vault under {owner}/ and read it with secrets:"


def variable_findings(records: Iterable[VariableRecord],
                      detected: set[tuple[str | None, str | None, str | None, str | None]]) -> list[Finding]:
    findings: list[Finding] = []
    places: dict[str, list[VariableRecord]] = defaultdict(list)
    for r in records:
        origin = r.origin
        found = (origin.project, origin.group, r.key, r.environment_scope) in detected
        if not (found or r.names_a_secret):
            continue
        if r.fingerprint is not None:
            places[r.fingerprint].append(r)
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
    for fingerprint, same in places.items():
        owners = sorted({f"{r.owner}:{r.key}[{r.environment_scope}]" for r in same})
        if len(owners) < 2:
            continue
        first = min(same, key=lambda r: (r.owner, r.key, r.environment_scope))
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


# What a CI file is checked for: pattern, rule id, description, severity, fix.
_CI_CHECKS = (
    (_JOB_JWT, "gitlab-ci-job-jwt", "uses the deprecated CI_JOB_JWT (removed in GitLab 17.0)", "medium",
     "use id_tokens: with an aud: for Vault, and secrets: with token: $VAULT_ID_TOKEN"),
    (_SKIP_VERIFY, "gitlab-ci-vault-skip-verify", "sets VAULT_SKIP_VERIFY: TLS to Vault is not verified",
     "high", "remove VAULT_SKIP_VERIFY and give Vault's CA certificate in VAULT_CACERT"),
)

# Every check's rule id: what a scan configuration may disable or allowlist besides the detectors.
CHECK_IDS = (*(rule[0] for rule in _FLAG_RULES), "gitlab-variable-duplicated", *(check[1] for check in _CI_CHECKS))


def ci_file_findings(text: str, project: str, path: str, key: FingerprintKey) -> list[Finding]:
    findings = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for pattern, rule_id, description, severity, fix in _CI_CHECKS:
            for m in pattern.finditer(line):
                findings.append(Finding(
                    rule_id=rule_id, secret_type="gitlab-ci-config", description=description,
                    severity=severity, confidence="high", path=path, line=number, column=m.start() + 1,
                    end_line=number, end_column=m.end(), fingerprint=key.fingerprint(m.group(0)),
                    preview=preview(m.group(0)), origin=Origin(project=project), remediation=fix,
                ))
    return findings
