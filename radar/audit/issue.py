"""One audit result, and how it joins the scan pipeline as a `Finding`."""

from __future__ import annotations

from dataclasses import dataclass

from radar.scan.findings import REDACTED, Finding, FingerprintKey, Origin


@dataclass(frozen=True)
class AuditIssue:
    """A setting that puts secrets at risk: what is wrong, why it matters, how to fix it.

    `subject` names the audited thing and never holds a value (a role's mount and name, a job's
    name): its fingerprint, with the rule id, is what a baseline remembers, so an issue stays
    "known" when unrelated lines of the file move.
    """

    rule_id: str
    kind: str  # the report's secret_type: "vault-config" or "gitlab-ci-config"
    severity: str  # critical | high | medium | low | info: the findings schema's levels
    path: str  # where: "auth/jwt/role/deploy", "sys/policy/app", ".gitlab-ci.yml"
    subject: str
    risk: str  # one sentence: what an attacker or a mistake gets from it
    fix: str  # one sentence: the change that removes it
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    origin: Origin = Origin()

    def as_finding(self, key: FingerprintKey) -> Finding:
        # The subject is not secret, but the preview field promises a redacted value: audits show none.
        return Finding(
            rule_id=self.rule_id, secret_type=self.kind, description=self.risk, severity=self.severity,
            confidence="high", path=self.path, line=self.line, column=self.column,
            end_line=self.end_line or self.line, end_column=self.end_column or self.column,
            fingerprint=key.fingerprint(f"{self.rule_id}\0{self.subject}"), preview=REDACTED,
            origin=self.origin, remediation=self.fix, name=self.subject,
        )
