"""`radar audit vault`'s rules: JWT roles, JWT/OIDC mounts and ACL policies that hand secrets to the
wrong jobs. Pure functions over `radar.audit.vault_read`'s dataclasses, one per rule; `RULES` holds
each rule's report text (the README's rule table says the same).

The rules follow GitLab's and HashiCorp's guidance for Vault with GitLab ID tokens: a role must name
the project (or group) whose jobs may log in, the audience, and for production the protected refs
and the pipeline sources that may deploy; tokens live minutes; the mount checks the issuer and
fetches keys over TLS; policies grant `read` on the paths a job needs, and a policy for another
environment never reaches production's paths unless it denies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from radar.audit.issue import AuditIssue
from radar.audit.vault_policy import PathRule
from radar.audit.vault_read import JwtMount, JwtRole, Policy, VaultConfig
from radar.scan.check_rules import CheckRule

KIND = "vault-config"
DEFAULT_MAX_TTL = 3600
SYSTEM_MAX_TTL = 768 * 3600  # Vault's and OpenBao's default max_lease_ttl when neither mount nor role sets one
_JWT_DOCS = "https://developer.hashicorp.com/vault/docs/auth/jwt"
_GITLAB_DOCS = "https://docs.gitlab.com/ci/secrets/id_token_authentication/"
_POLICY_DOCS = "https://developer.hashicorp.com/vault/docs/concepts/policies"

ANY_PROJECT = "vault-jwt-role-any-project"
NO_AUDIENCE = "vault-jwt-role-no-audience"
PRODUCTION_UNPROTECTED = "vault-jwt-role-production-unprotected"
GLOB_EVERYTHING = "vault-jwt-role-glob-matches-everything"
LONG_TTL = "vault-jwt-role-long-ttl"
NO_ISSUER = "vault-jwt-mount-no-bound-issuer"
KEYS_OVER_HTTP = "vault-jwt-mount-keys-over-http"
POLICY_WILDCARD = "vault-policy-wildcard-path"
POLICY_WRITE = "vault-policy-write-capability"
POLICY_OVERLAP = "vault-policy-reaches-production"

RULES = {
    ANY_PROJECT: CheckRule(
        "JWT role binds no project or group claim: any pipeline of any project on the GitLab instance may log in",
        "Add project_id (or namespace_id) to the role's bound_claims.", _GITLAB_DOCS),
    NO_AUDIENCE: CheckRule(
        "JWT role has no bound_audiences: ID tokens minted for any other service are accepted",
        "Set bound_audiences to the aud of the jobs' id_tokens (such as https://vault.example.com).", _JWT_DOCS),
    PRODUCTION_UNPROTECTED: CheckRule(
        "Production JWT role does not require a protected ref or a pipeline source: unreviewed branches, "
        "schedules or manual pipelines read production secrets",
        "Bind ref_protected \"true\" and pipeline_source (such as push) in the role's bound_claims.", _GITLAB_DOCS),
    GLOB_EVERYTHING: CheckRule(
        "JWT role's glob bound claim matches every value: the claim binds nothing",
        "Replace the wildcard with the exact value, or a glob that names it (auto-deploy-*).", _JWT_DOCS),
    LONG_TTL: CheckRule(
        "JWT role's Vault tokens live longer than the audit's limit: a leaked token stays usable after the job",
        "Set token_explicit_max_ttl to the job's length (minutes, such as 300).", _JWT_DOCS),
    NO_ISSUER: CheckRule(
        "JWT auth mount has no bound_issuer: tokens are not checked for GitLab's issuer",
        "Set bound_issuer in auth/MOUNT/config to GitLab's URL, scheme included (https://gitlab.example.com).",
        _JWT_DOCS),
    KEYS_OVER_HTTP: CheckRule(
        "JWT auth mount fetches its signing keys over plain http: whoever is on the path can forge ID tokens",
        "Use an https:// jwks_url or oidc_discovery_url.", _JWT_DOCS),
    POLICY_WILDCARD: CheckRule(
        "Policy grants a wildcard secret path: every secret added under it later is readable too",
        "List the exact secret paths the role needs.", _POLICY_DOCS),
    POLICY_WRITE: CheckRule(
        "Policy grants write capabilities on secret paths: a job holding it can change or destroy secrets",
        "Grant only read (and list where needed) to CI roles; keep writes to people and automation outside CI.",
        _POLICY_DOCS),
    POLICY_OVERLAP: CheckRule(
        "Non-production policy reaches production secret paths without denying them",
        "Narrow the policy's path, or add a deny rule for the production path.", _POLICY_DOCS),
}

_PROJECT_CLAIMS = ("project_id", "project_path", "namespace_id", "namespace_path")
_PRODUCTION_WORDS = frozenset({"prod", "production", "live"})
_WRITE = ("create", "update", "delete", "patch", "sudo")
_NOT_SECRETS = ("sys/", "auth/", "identity/", "cubbyhole/")  # Vault's own paths; cubbyhole is per token
_GLOB_SEPARATORS = "*/:._-"


def _matches_all(glob: str) -> bool:
    """Whether a bound-claims glob is `*` among separators only (`*`, `*/*`, `**`): it binds nothing.
    A test of the characters, not an expression `[*/:._-]*\\*[*/:._-]*`, whose backtracking over a
    long run of `*` (a value Vault answered) takes quadratic time."""
    return "*" in glob and not glob.strip(_GLOB_SEPARATORS)


def audit(config: VaultConfig, max_ttl: int = DEFAULT_MAX_TTL) -> list[AuditIssue]:
    issues: list[AuditIssue] = []
    mounts = {m.path: m for m in config.mounts}
    for mount in config.mounts:
        issues += mount_issues(mount)
    for role in config.roles:
        issues += role_issues(role, mounts.get(role.mount), max_ttl)
    for policy in config.policies:
        issues += policy_issues(policy)
    issues += overlap_issues(config.policies)
    return issues


def _issue(rule: str, severity: str, path: str, subject: str, risk: str, fix: str) -> AuditIssue:
    return AuditIssue(rule, KIND, severity, path, subject, risk, fix)


def mount_issues(mount: JwtMount) -> Iterator[AuditIssue]:
    where = f"auth/{mount.path}/config"
    if mount.config_read and not mount.bound_issuer:
        yield _issue(NO_ISSUER, "medium", where, where,
                     f"auth mount {mount.path} accepts ID tokens without checking their issuer (no bound_issuer)",
                     f"vault write {where} bound_issuer=https://gitlab.example.com (GitLab's URL, with scheme)")
    for option in ("jwks_url", "oidc_discovery_url"):
        url = getattr(mount, option)
        if url.lower().startswith("http://"):
            yield _issue(KEYS_OVER_HTTP, "high", where, f"{where} {option}",
                         f"auth mount {mount.path} fetches signing keys from {option} {url} over plain http",
                         f"set {option} to GitLab's https:// address")


def role_issues(role: JwtRole, mount: JwtMount | None, max_ttl: int) -> Iterator[AuditIssue]:
    path = role.path
    if not role.bound_subject and not any(role.claim(c) for c in _PROJECT_CLAIMS):
        yield _issue(ANY_PROJECT, "high", path, path,
                     f"role {role.name} binds none of {', '.join(_PROJECT_CLAIMS)}: any pipeline of any project may log in",
                     "add project_id (or namespace_id) to the role's bound_claims")
    if not role.bound_audiences:
        yield _issue(NO_AUDIENCE, "medium", path, path,
                     f"role {role.name} has no bound_audiences: an ID token minted for another service logs in",
                     "set bound_audiences to the aud of the jobs' id_tokens")
    if _production(role):
        missing = [claim for claim, ok in (("ref_protected \"true\"", role.claim("ref_protected") == ("true",)),
                                           ("pipeline_source", bool(role.claim("pipeline_source")))) if not ok]
        if missing:
            yield _issue(PRODUCTION_UNPROTECTED, "high", path, path,
                         f"production role {role.name} does not bind {' or '.join(missing)}: "
                         "jobs of unprotected branches, schedules or manual pipelines may read production secrets",
                         f"add {' and '.join(missing)} (such as [\"push\"]) to the role's bound_claims")
    if role.bound_claims_type == "glob":
        for claim, values in role.bound_claims:
            if any(map(_matches_all, values)):
                yield _issue(GLOB_EVERYTHING, "high", path, f"{path} {claim}",
                             f"role {role.name}'s glob for {claim} matches every value: the claim binds nothing",
                             f"bind {claim} to its exact value (or a glob that names it)")
    ttl = _longest_ttl(role, mount)
    if ttl > max_ttl:
        yield _issue(LONG_TTL, "medium", path, path,
                     f"role {role.name}'s tokens may live {_duration(ttl)}, above the limit of {_duration(max_ttl)}",
                     f"set token_explicit_max_ttl to at most {max_ttl} (seconds)")


def _production(role: JwtRole) -> bool:
    texts = (role.name, *role.policies, *(v for _, values in role.bound_claims for v in values))
    return any(_production_text(t) for t in texts)


def _production_text(text: str) -> bool:
    return not _PRODUCTION_WORDS.isdisjoint(re.split(r"[^a-z0-9]+", text.lower()))


def _longest_ttl(role: JwtRole, mount: JwtMount | None) -> int:
    """The longest a token of the role may live: the explicit max when set (it caps everything);
    else the larger of its TTL and max TTL, the mount's (or system's) maximum when neither is set."""
    if role.token_explicit_max_ttl:
        return role.token_explicit_max_ttl
    if role.token_max_ttl or role.token_ttl:
        return max(role.token_max_ttl, role.token_ttl)
    return (mount.max_lease_ttl if mount and mount.max_lease_ttl else SYSTEM_MAX_TTL)


def _duration(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"


def _secret_path(rule: PathRule) -> bool:
    return not rule.path.lstrip("/").startswith(_NOT_SECRETS)


def policy_issues(policy: Policy) -> Iterator[AuditIssue]:
    for rule in policy.rules:
        if "deny" in rule.capabilities or not rule.capabilities or not _secret_path(rule):
            continue
        subject = f"{policy.path} {rule.path}"
        last = rule.path.rstrip("/").rsplit("/", 1)[-1]
        if rule.path.endswith("*") or last == "+":
            yield _issue(POLICY_WILDCARD, "medium", policy.path, subject,
                         f"policy {policy.name} grants {', '.join(rule.capabilities)} on {rule.path}: every secret "
                         "added under it later is included",
                         "list the exact secret paths instead of the wildcard")
        written = [c for c in _WRITE if c in rule.capabilities]
        if written:
            yield _issue(POLICY_WRITE, "medium", policy.path, f"{subject} write",
                         f"policy {policy.name} grants {', '.join(written)} on {rule.path}: its holders can change "
                         "or destroy those secrets",
                         "grant only read (and list) to CI roles")


def overlap_issues(policies: tuple[Policy, ...]) -> Iterator[AuditIssue]:
    """A non-production policy granting a path that covers a production path some policy names,
    with no deny for it in that same policy."""
    production = sorted({r.path for p in policies for r in p.rules
                         if _secret_path(r) and _production_text(r.path)})
    for policy in policies:
        if _production_text(policy.name):
            continue
        denied = [r.path for r in policy.rules if "deny" in r.capabilities]
        for rule in policy.rules:
            if "deny" in rule.capabilities or not rule.capabilities or not _secret_path(rule) \
                    or _production_text(rule.path):  # a grant that names production is deliberate, not an overlap
                continue
            for target in production:
                if _covers(rule.path, target) and not any(_covers(d, target) for d in denied):
                    yield _issue(POLICY_OVERLAP, "high", policy.path, f"{policy.path} {rule.path} {target}",
                                 f"non-production policy {policy.name} grants {rule.path}, which covers production "
                                 f"path {target}, with no deny for it",
                                 f"narrow {rule.path}, or add path \"{target}\" {{ capabilities = [\"deny\"] }}")


def _covers(glob: str, path: str) -> bool:
    """Whether Vault's glob (`+` one segment, a trailing `*` any suffix) matches every path `path`
    stands for: its literal part, with its own wildcards taken as some value."""
    concrete = path.rstrip("*").replace("+", "x")
    pattern = "[^/]+".join(re.escape(part) for part in glob.rstrip("*").split("+"))
    return re.fullmatch(pattern + (".*" if glob.endswith("*") else ""), concrete, re.DOTALL) is not None
