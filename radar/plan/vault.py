"""A target's Vault policy (HCL) and JWT role (the JSON body of `auth/<path>/role/<name>`).

The policy grants `read` on exactly the KV v2 data paths the target uses, no globs, and denies
the paths build chose to keep apart explicitly (`deny` wins over any grant from another policy).
Only sanitised paths reach it (`radar.plan.naming`), so no quote, newline or glob can change
what it says.

The role follows GitLab's and HashiCorp's guidance: `role_type` jwt, `bound_audiences` the
`aud` of the job's ID token, `token_explicit_max_ttl` short (default 300 s), `user_claim`
(default `user_email`), and `bound_claims` (`RoleRules` says which; each with its reason, which
the plan prints next to the role):

- always `project_id` or `namespace_id` (without it any job of the instance may log in);
- production: `ref_protected` "true", `ref_type` and `ref` (the default branch, or the protected
  refs the mapping lists), `pipeline_source` (default push), `environment` and, unless the
  mapping turns it off, `environment_protected` "true";
- other environments and `shared`: `ref_protected` "true" unless the mapping opts them out, and
  `environment` where one is known.

A claim with several allowed values is a JSON list, which Vault reads as "any of". Vault's glob
matching knows only `*`; `bound_claims_type` is `glob` when a bound value holds one (an
environment scope like `review/*`, a ref like `release/*`), else `string`, so a branch name can
never widen a role by accident.
"""

from __future__ import annotations

import json

from radar.plan.model import Binding, RoleRules, Settings


def policy_hcl(read: tuple[str, ...], deny: tuple[str, ...]) -> str:
    lines = ["# Read-only on exactly the secrets radar planned for this project and environment."]
    for path in read:
        lines += [f'path "{path}" {{', '  capabilities = ["read"]', "}"]
    if deny:
        lines.append("# Explicit deny: this role must never read the other side's secrets "
                     "(production vs. the rest), whatever other policy is attached.")
        for path in deny:
            lines += [f'path "{path}" {{', '  capabilities = ["deny"]', "}"]
    return "\n".join(lines) + "\n"


# Why each claim is bound (or not): one line each in the plan, the guidance in our words.
WHY_PROJECT = ("{claim}: only this project's pipelines; a role without it admits any pipeline of "
               "any project on the GitLab instance")
WHY_REF_PROTECTED = ("ref_protected: only protected branches and tags; any developer can push an "
                     "unprotected branch and run its pipeline with the role")
WHY_REF_UNPROTECTED = ("ref_protected not bound (the mapping opts {environment} out): any branch, "
                       "pushed by any developer, can log in with this role")
WHY_REF = ("ref_type {ref_type} and ref {refs}: only the ref(s) that deploy ({source}); other protected "
           "refs run with their own, looser review")
WHY_PIPELINE_SOURCE = ("pipeline_source {sources}: scheduled, manual (web) and API-triggered pipelines "
                       "run with the branch's rights but outside the reviewed push that deploys")
WHY_ENVIRONMENT = ("environment {environment}: only jobs deploying to it; this is only as strong as "
                   "GitLab's protection of the environment, so protect it (Settings > CI/CD > Protected environments)")
WHY_ENVIRONMENT_PROTECTED = ("environment_protected: only while GitLab protects the environment; "
                             "unprotected, any pipeline that names it could claim it")
WHY_ENVIRONMENT_UNPROTECTED = ("environment_protected not bound (the mapping turns it off, e.g. for a "
                               "GitLab before 13.9): protect the environment in GitLab all the same")
_SOURCE = {"default": "radar's default; set [roles] default_branch or --default-branch",
           "mapping": "from the mapping", "command line": "from --default-branch"}


def bound_claims(rules: RoleRules, binding: Binding, environment: str | None,
                 production: bool, environment_name: str) -> tuple[dict, tuple[str, ...]]:
    """The role's `bound_claims` and, in the same order, why each is (or is not) bound."""
    claims: dict = {binding.claim: binding.value}
    why = [WHY_PROJECT.format(claim=binding.claim)]
    if production or rules.protects(environment_name):
        claims["ref_protected"] = "true"
        why.append(WHY_REF_PROTECTED)
    else:
        why.append(WHY_REF_UNPROTECTED.format(environment=environment_name))
    if production:
        refs = rules.production_refs
        source = "from the mapping" if rules.refs else _SOURCE[rules.default_branch_source]
        claims["ref_type"] = rules.ref_type
        claims["ref"] = _one_or_list(refs)
        why.append(WHY_REF.format(ref_type=rules.ref_type, refs=", ".join(refs), source=source))
        claims["pipeline_source"] = _one_or_list(rules.pipeline_sources)
        why.append(WHY_PIPELINE_SOURCE.format(sources=", ".join(rules.pipeline_sources)))
    if environment is not None:
        claims["environment"] = environment
        why.append(WHY_ENVIRONMENT.format(environment=environment))
        if production:
            if rules.environment_protected:
                claims["environment_protected"] = "true"
                why.append(WHY_ENVIRONMENT_PROTECTED)
            else:
                why.append(WHY_ENVIRONMENT_UNPROTECTED)
    return claims, tuple(why)


def needs_glob(claims: dict) -> bool:
    """True when a bound value holds `*`, the one wildcard of Vault's glob matching."""
    values = [v for value in claims.values() for v in (value if isinstance(value, list) else [value])]
    return any("*" in v for v in values)


def role(settings: Settings, name: str, claims: dict) -> dict:
    return {
        "role_type": "jwt",
        "policies": [name],
        "token_explicit_max_ttl": settings.token_ttl,
        "user_claim": settings.user_claim,
        "bound_audiences": [settings.audience],
        "bound_claims_type": "glob" if needs_glob(claims) else "string",
        "bound_claims": claims,
    }


def _one_or_list(values: tuple[str, ...]) -> str | list[str]:
    # A list in bound_claims means "any of"; one value stays a string, as GitLab's examples write it.
    return values[0] if len(values) == 1 else list(values)


def role_json(role_body: dict) -> str:
    return json.dumps(role_body, indent=2) + "\n"

