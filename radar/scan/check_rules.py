"""What reports say about rules that are checks rather than detector rules: the checks after a
migration (`radar.scan.migrated`). A detector rule's text lives in its rule file; a finding of
these checks carries finding-specific text (the job, the Vault path), so SARIF's rule descriptors
and GitLab's vulnerability names take the rule-level text from here instead."""

from __future__ import annotations

from dataclasses import dataclass

STILL_DEFINED = "migrated-variable-still-defined"
STILL_READ = "migrated-variable-still-read"
REAPPEARED = "migrated-value-reappeared"
_GITLAB_SECRETS = "https://docs.gitlab.com/ci/secrets/"  # GitLab's "Using external secrets in CI"


@dataclass(frozen=True)
class CheckRule:
    description: str
    help: str  # what to do, for every finding of the rule
    docs: str | None = None


RULES = {
    STILL_DEFINED: CheckRule(
        "CI/CD variable the migration moved to Vault is still defined in GitLab",
        "Delete the CI/CD variable once every job reads the value from Vault with secrets: (the finding names "
        "the Vault path); while it exists, jobs that lack secrets: keep using the old copy.", _GITLAB_SECRETS),
    STILL_READ: CheckRule(
        "CI job reads a variable the migration moved to Vault without a secrets: entry for it",
        "Add a secrets: entry of that name to the job, or let it extend the hidden job of radar plan's CI "
        "stanza; the finding shows the entry from the plan.", _GITLAB_SECRETS),
    REAPPEARED: CheckRule(
        "Value the migration moved to Vault is exposed again",
        "Rotate the credential (this copy makes the one in Vault known), store the new value in Vault, remove "
        "this copy, and read it in CI with secrets:.",
        "https://developer.hashicorp.com/vault/docs/secrets/kv/kv-v2"),
}
