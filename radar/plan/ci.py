"""The `.gitlab-ci.yml` stanza that replaces a target's hardcoded values with `secrets:`.

One hidden job per target, `.vault-<role>`, that the jobs needing the secrets `extends:`:

- `variables:` `VAULT_AUTH_ROLE` (the target's role) and `VAULT_AUTH_PATH`; `VAULT_SERVER_URL`
  stays a project CI/CD variable, since it is the same for every job;
- `id_tokens:` one token (default `VAULT_ID_TOKEN`) with the role's audience as `aud`;
- `secrets:` one entry per value in GitLab's short form `path/field@mount` (always with the
  mount: without it GitLab reads from `kv-v2`), `token: $VAULT_ID_TOKEN`, and `file: true` for
  keys, certificates, kubeconfigs, JSON key files and multi-line values, `file: false` for
  tokens and passwords, which scripts use as strings;
- `environment:` the target's environment, which the role binds (`review/*` becomes
  `review/$CI_COMMIT_REF_SLUG`, GitLab's idiom for dynamic environments).

Then an example job extending it (only on protected refs where the role requires them). The
YAML is written by PyYAML and `radar exec` reads it back the way GitLab does.
"""

from __future__ import annotations

import yaml

from radar.plan.model import Settings, Target


def stanza(target: Target, settings: Settings) -> str:
    template: dict = {
        "variables": {"VAULT_AUTH_ROLE": target.role_name, "VAULT_AUTH_PATH": settings.auth_path},
        "id_tokens": {settings.token_variable: {"aud": settings.audience}},
        "secrets": {
            use.variable: {"vault": use.entry.short_form, "file": use.entry.file,
                           "token": f"${settings.token_variable}"}
            for use in target.uses
        },
    }
    if target.environment_claim is not None:
        template["environment"] = {"name": target.environment_claim.replace("*", "$CI_COMMIT_REF_SLUG")}
    example: dict = {"extends": target.ci_template}
    if "ref_protected" in target.role.get("bound_claims", {}):
        example["rules"] = [{"if": '$CI_COMMIT_REF_PROTECTED == "true"'}]
    example["script"] = ["echo 'replace with the script of the job that used the hardcoded values'"]
    header = (f"# radar plan: {len(target.uses)} secret(s) for {_printable(target.project)}, environment "
              f"{_printable(target.environment)}. Jobs that need them: extends: {target.ci_template}\n")
    body = yaml.safe_dump({target.ci_template: template, example_job(target): example},
                          sort_keys=False, default_flow_style=False, width=4096, allow_unicode=False)
    return header + body


def _printable(text: str) -> str:
    # A project or scope name must not end the comment line and start YAML of its own.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def example_job(target: Target) -> str:
    return f"{target.role_name}-job"


def project_file(targets: list[Target]) -> str:
    """The stanzas of one project's targets, one after the other, as one YAML document."""
    return "\n".join(t.ci_yaml for t in targets)
