"""A target's Vault policy (HCL) and JWT role (the JSON body of `auth/<path>/role/<name>`).

The policy grants `read` on exactly the KV v2 data paths the target uses, no globs, and denies
the paths build chose to keep apart explicitly (`deny` wins over any grant from another policy).
Only sanitised paths reach it (`radar.plan.naming`), so no quote, newline or glob can change
what it says.

The role follows GitLab's and HashiCorp's guidance: `role_type` jwt, `bound_audiences` the
`aud` of the job's ID token, `bound_claims` always with `project_id` or `namespace_id` (GitLab's
warning: without it any job of the instance may log in), plus `ref_protected: "true"` and
`environment` for production, and `environment` for any other known environment;
`bound_claims_type` `string` unless an environment scope holds a wildcard (then `glob`);
`token_explicit_max_ttl` short (default 300 s), `user_claim` (default `user_email`).
"""

from __future__ import annotations

import json

from radar.plan.model import Binding, Settings


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


def role(settings: Settings, name: str, binding: Binding, environment: str | None, production: bool,
         glob: bool) -> dict:
    claims = {binding.claim: binding.value}
    if production:
        claims["ref_protected"] = "true"
    if environment is not None:
        claims["environment"] = environment
    return {
        "role_type": "jwt",
        "policies": [name],
        "token_explicit_max_ttl": settings.token_ttl,
        "user_claim": settings.user_claim,
        "bound_audiences": [settings.audience],
        "bound_claims_type": "glob" if glob else "string",
        "bound_claims": claims,
    }


def role_json(role_body: dict) -> str:
    return json.dumps(role_body, indent=2) + "\n"

