"""The migration plan's data: frozen dataclasses that `build` produces and the renderers read.

A plan never holds a secret value: an entry is identified by the fingerprint radar's scan gave
the value, and the places it was found. The shapes, from the bottom up:

- `Place`: one location of a value (file and line, a commit, or a GitLab CI/CD variable);
- `Entry`: one Vault secret field holding one value (one fingerprint), with every place it was
  found, why it must be rotated first (if it must), and whether CI should get it as a file;
- `Target`: one GitLab project (or group) and environment, with its JWT role, its policy and
  the `.gitlab-ci.yml` stanza its jobs extend. A target reads the entries found in its places;
- `Plan`: the targets, the entries, what was skipped and why, CI-configuration fixes, and
  whether it is complete (every role bound to a known project or namespace id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

PRODUCTION = "production"
SHARED = "shared"  # the environment of values whose environment is unknown, or used by several


@dataclass(frozen=True)
class Place:
    """Where a value was found: `path:line` (a file, a commit's blob) or a GitLab variable."""

    path: str
    line: int
    project: str  # the project (or group) path the place belongs to
    environment: str
    environment_source: str  # "gitlab" (environment_scope), "mapping", "path" (inferred), "none"
    rule_id: str
    commit: str | None = None
    variable_key: str | None = None
    environment_scope: str | None = None
    in_head: bool | None = None  # None: not a history finding

    @property
    def label(self) -> str:
        if self.variable_key is not None:
            return f"CI/CD variable {self.variable_key} [{self.environment_scope or '*'}] of {self.project}"
        where = f"{self.path}:{self.line}"
        if self.commit:
            where += f" (commit {self.commit[:12]})"
        return where


@dataclass(frozen=True)
class Entry:
    """One value to store in Vault: KV v2 `mount`, secret `path`, `field`."""

    fingerprint: str
    secret_type: str
    severity: str
    mount: str
    path: str
    field: str
    project: str
    environment: str
    environment_inferred: bool
    file: bool  # deliver as a file in CI (PEM keys, certificates, JSON keys, multi-line values)
    places: tuple[Place, ...]
    rotate_reasons: tuple[str, ...]  # empty: migrating is enough; else rotate first, for these reasons
    notes: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()  # the remediation, in the order to carry it out
    # The other halves of one credential (`path/field@mount`: an AWS key id and its secret key, a
    # client id and its secret, a user and its password): rotated together, or not at all.
    rotate_with: tuple[str, ...] = ()

    @property
    def api_path(self) -> str:
        """What a KV v2 read requests (and what a policy grants): `secret/data/ci/app/production`."""
        return f"{self.mount}/data/{self.path}"

    @property
    def short_form(self) -> str:
        """GitLab's `secrets:vault:` short form, `path/field@mount`."""
        return f"{self.path}/{self.field}@{self.mount}"


@dataclass(frozen=True)
class Step:
    """One remediation step: `rotate`, `store`, `grant`, `ci` or `remove`, and what to do."""

    kind: str
    text: str


@dataclass(frozen=True)
class Write:
    """One `vault kv put` (a KV v2 secret with all its fields): the values stay placeholders."""

    mount: str
    path: str
    fields: tuple[str, ...]

    def file(self, field: str) -> str:
        """The file the command reads `field`'s value from: unique in the plan, so that files
        prepared for several commands at once can never hand one secret's value to another."""
        return f"{self.mount.replace('/', '.')}.{self.path.replace('/', '.')}.{field}.secret"

    @property
    def command(self) -> str:
        # `field=@file` reads the value from a file: never on the command line, where shell
        # history and `ps` would keep it.
        values = " ".join(f"{f}=@{self.file(f)}" for f in self.fields)
        return f"vault kv put -mount={self.mount} {self.path} {values}"


@dataclass(frozen=True)
class SecretUse:
    """One `secrets:` entry of a target's stanza: which entry, under which CI/CD variable name."""

    variable: str
    entry: Entry


@dataclass(frozen=True)
class Binding:
    """What a role's `bound_claims` ties it to: a project id, or a namespace (group) id."""

    claim: str  # "project_id" or "namespace_id"
    value: str  # the id as GitLab sends it (a string), or a placeholder no token carries
    known: bool


@dataclass(frozen=True)
class Target:
    """One project (or group) and environment: a role, a policy and a CI stanza."""

    project: str
    environment: str
    binding: Binding
    role_name: str
    policy_name: str
    uses: tuple[SecretUse, ...]
    read_paths: tuple[str, ...]  # policy paths granted "read" (exactly the entries' api paths)
    deny_paths: tuple[str, ...]  # policy paths explicitly denied (production paths, for others)
    environment_claim: str | None  # bound `environment` claim; None for shared
    glob: bool  # bound_claims_type glob (a bound value holds `*`: an environment scope, a ref)
    policy_hcl: str
    role: dict = field(hash=False, compare=False)
    ci_template: str = ""  # the hidden job name radar's stanza defines, e.g. `.vault-app-production`
    ci_yaml: str = ""
    reasons: tuple[str, ...] = ()  # one line per bound claim: why the role binds it (or not)

    @property
    def production(self) -> bool:
        return is_production(self.environment)


@dataclass(frozen=True)
class Skipped:
    """A finding that is not planned, and why."""

    rule_id: str
    secret_type: str
    place: str
    reason: str


@dataclass(frozen=True)
class Fix:
    """A finding that is fixed in configuration rather than moved to Vault (CI config, variable hygiene)."""

    rule_id: str
    place: str
    description: str
    severity: str
    action: str


# GitLab's documented `CI_PIPELINE_SOURCE` values, which ID tokens carry as `pipeline_source`.
PIPELINE_SOURCES = (
    "api", "chat", "external", "external_pull_request_event", "merge_request_event", "ondemand_dast_scan",
    "ondemand_dast_validation", "parent_pipeline", "pipeline", "push", "schedule",
    "security_orchestration_policy", "trigger", "web", "webide",
)


@dataclass(frozen=True)
class RoleRules:
    """What roles bind beyond the project: the mapping's `[roles]` table and `--default-branch`."""

    default_branch: str = "main"
    default_branch_source: str = "default"  # "default", "mapping" or "command line": said in the plan
    refs: tuple[str, ...] = ()  # the protected refs production roles bind; empty: the default branch
    ref_type: str = "branch"
    pipeline_sources: tuple[str, ...] = ("push",)
    environment_protected: bool = True  # in ID tokens since GitLab 13.9 (ID tokens came in 15.7)
    ref_protected: bool = True  # non-production and shared roles bind ref_protected "true"
    unprotected_environments: tuple[str, ...] = ()  # globs: these environments' roles do not

    @property
    def production_refs(self) -> tuple[str, ...]:
        return self.refs or (self.default_branch,)

    def protects(self, environment: str) -> bool:
        """Whether a non-production role (or `shared`'s) binds ref_protected "true"."""
        return self.ref_protected and not any(fnmatchcase(environment, glob) for glob in self.unprotected_environments)


@dataclass(frozen=True)
class Settings:
    """The defaults a plan is built with (from the CLI and the mapping file)."""

    mount: str
    path_template: str
    audience: str
    auth_path: str
    token_ttl: int
    user_claim: str
    token_variable: str
    # GitLab's address, its ID tokens' `iss` (scheme included): the JWT auth config's issuer and
    # where its keys are. None: not known, the plan's Vault setup says what to fill in.
    gitlab_url: str | None = None
    roles: RoleRules = RoleRules()


@dataclass(frozen=True)
class Plan:
    settings: Settings
    source: str  # what was scanned: the report's scan target
    entries: tuple[Entry, ...]
    writes: tuple[Write, ...]
    targets: tuple[Target, ...]
    skipped: tuple[Skipped, ...]
    fixes: tuple[Fix, ...]
    warnings: tuple[str, ...]
    # The fingerprint key's id (`FingerprintKey.key_id`): a later scan compares its fingerprints
    # with the plan's only under the same key. None when the findings report did not name it.
    fingerprint_key_id: str | None = None

    @property
    def complete(self) -> bool:
        """False while any role is bound to a placeholder id: such a role admits no token."""
        return all(t.binding.known for t in self.targets)


def is_production(environment: str) -> bool:
    """`production`, and names starting with `prod` (`prod`, `prod-eu`, `production/eu`)."""
    return environment.lower().startswith("prod")
