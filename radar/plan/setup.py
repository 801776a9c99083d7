"""What a plan's roles need before they work: the Vault side and the GitLab side.

Vault setup, in the order it must happen, each step safe to run again:

1. JWT auth enabled at the plan's auth path (`vault read sys/auth/<path>` first: enabling twice
   fails with "path is already in use", so the check makes the step a no-op instead);
2. its config: `jwks_url` (GitLab's keys, `<gitlab>/oauth/discovery/keys`) and `bound_issuer`
   (GitLab's `iss`, scheme included: `https://gitlab.example.com`; a bare host name never
   matches). Without a known GitLab URL the config holds `<GITLAB_URL>` and says what to fill in:
   a guessed issuer would refuse every token, or trust the wrong instance;
3. each KV v2 mount the plan writes to, enabled unless it exists, then checked to be KV v2
   (the policies grant `<mount>/data/...`, which means nothing on KV v1);
4. a file audit device unless one exists. Vault enables it by API; OpenBao only from its server
   configuration (it refuses the API call), which the failure message says.

The checks read a pipe with `grep PATTERN >/dev/null`, not `grep -q`: `-q` exits at the first
match, the writer gets SIGPIPE, and under `set -o pipefail` (apply.sh) the check would fail.

GitLab setup: for every role, what GitLab must protect for the role's bound claims to mean what
they say, read from the role's `bound_claims` (so whatever claims the roles bind flow in): an
`environment` binding on a production role (or one binding `environment_protected`) is only as
strong as GitLab's protected environment; a `ref_protected` binding as the protected branches and
tags; a `ref` binding names them.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from urllib.parse import quote

from radar.plan import naming
from radar.plan.model import Plan, Target

GITLAB_PLACEHOLDER = "<GITLAB_URL>"
AUDIT_PATH = "radar-audit"
AUDIT_FILE = "/var/log/vault/audit.log"
AUTH_CONFIG = "auth-config.json"  # the auth config's file, in --output-dir and in apply.sh
MAINTAINER = 40  # GitLab's access level: only maintainers deploy, push and merge


@dataclass(frozen=True)
class Document:
    """A file a command reads: a policy, a role, the auth config. `path` is relative to the
    `--output-dir` directory (and names the file there); without one, the command takes the
    content inline."""

    path: str
    content: str


@dataclass(frozen=True)
class Command:
    """One `vault` command line (words already shell-quoted), and the document it reads, if any:
    `at` says how the command names a file (`@file` for `vault write`, a bare path for
    `vault policy write`)."""

    line: str
    document: Document | None = None
    at: bool = True

    def shell(self, files: bool) -> str:
        """The command as shell text: naming the document's file, or feeding it on a heredoc."""
        if self.document is None:
            return self.line
        if files:
            return f"{self.line} {'@' if self.at else ''}{shlex.quote(self.document.path)}"
        end = _delimiter(self.document.content)
        return f"{self.line} - <<'{end}'\n{self.document.content.rstrip(chr(10))}\n{end}"


@dataclass(frozen=True)
class Step:
    """One setup step: why, the command, a check that makes it a no-op when already done
    (`unless`), a check run afterwards (`verify`, with what to tell when it fails), and what to
    tell when the command itself fails (`if_fails`)."""

    title: str
    why: str
    command: Command
    unless: str | None = None
    verify: str | None = None
    verify_fails: str = ""
    if_fails: str | None = None

    def shell(self, files: bool) -> str:
        """The step as a person pastes it."""
        text = self.command.shell(files)
        if self.unless:
            text = f"{self.unless} || {text}"
        if self.verify:
            text += f"\n{self.verify} || echo {shlex.quote('radar plan: ' + self.verify_fails)} >&2"
        return text


@dataclass(frozen=True)
class Protection:
    """One thing to protect in GitLab: an environment, branches or tags, in a project or group."""

    owner: str  # the project (or group) path
    kind: str  # "environment", "branch", "tag" or "ref" (the refs jobs run on; kind unknown)
    name: str  # what to protect; a placeholder where the plan cannot know it
    roles: tuple[str, ...]
    why: str
    ui: str
    api: str | None  # a curl command (the token from $GITLAB_TOKEN), None where GitLab has no one call


def gitlab_url(plan: Plan) -> str:
    return plan.settings.gitlab_url or GITLAB_PLACEHOLDER


def auth_config(plan: Plan) -> Document:
    url = gitlab_url(plan)
    body = {"jwks_url": f"{url}/oauth/discovery/keys", "bound_issuer": url}
    return Document(AUTH_CONFIG, json.dumps(body, indent=2) + "\n")


def mounts(plan: Plan) -> tuple[str, ...]:
    """Every KV v2 mount the plan writes to (the default one when it writes nothing)."""
    return tuple(sorted({e.mount for e in plan.entries})) or (naming.path(plan.settings.mount, "secret"),)


def vault_steps(plan: Plan) -> tuple[Step, ...]:
    auth = plan.settings.auth_path.strip("/")
    q = shlex.quote
    steps = [
        Step("Enable JWT auth", f"GitLab jobs log in with their ID token at auth/{auth}.",
             Command(f"vault auth enable -path={q(auth)} jwt"),
             unless=f"vault read {q(f'sys/auth/{auth}')} >/dev/null 2>&1"),
        Step("Configure it for GitLab",
             "Vault takes GitLab's signing keys from jwks_url and accepts only tokens whose iss is "
             "bound_issuer, GitLab's address with its scheme (a bare host name never matches)."
             + ("" if plan.settings.gitlab_url else
                f" The GitLab URL is not known: replace {GITLAB_PLACEHOLDER} with it (https://gitlab.example.com), "
                "or plan again with --gitlab-url URL (or gitlab_url in the mapping's [vault])."),
             Command(f"vault write {q(f'auth/{auth}/config')}", auth_config(plan))),
    ]
    for mount in mounts(plan):
        steps.append(Step(
            f"Enable the KV v2 mount {mount}", f"The values are stored in KV v2 at {mount}/; the policies grant "
            f"{mount}/data/..., which only a KV v2 mount has.",
            Command(f"vault secrets enable -path={q(mount)} kv-v2"),
            unless=f"vault read {q(f'sys/mounts/{mount}')} >/dev/null 2>&1",
            verify=f"vault read -format=json {q(f'sys/mounts/{mount}')} | grep '\"version\": \"2\"' >/dev/null",
            verify_fails=f"{mount}/ is mounted but is not KV v2; plan with another --mount",
        ))
    steps.append(Step(
        "Enable an audit device", "Every login and every read is recorded, so a leaked token's use can be traced.",
        Command(f"vault audit enable -path={AUDIT_PATH} file file_path={AUDIT_FILE}"),
        unless="vault audit list -format=json 2>/dev/null | grep '\"type\": \"file\"' >/dev/null",
        if_fails=("the server did not enable the audit device. OpenBao enables audit devices only from its "
                  f"configuration: add audit \"file\" \"{AUDIT_PATH}\" {{ options {{ file_path = \"{AUDIT_FILE}\" }} }} "
                  "to it and restart; Vault needs a token with sudo on sys/audit and a server that may write "
                  f"{AUDIT_FILE}. Then run again"),
    ))
    return tuple(steps)


def gitlab_steps(plan: Plan) -> tuple[Protection, ...]:
    """What to protect in GitLab, one entry per owner and thing, in plan order."""
    found: dict[tuple[str, str, str], tuple[list[str], Target]] = {}
    for t in plan.targets:
        claims = t.role.get("bound_claims", {})
        for kind, name in _protected(t, claims):
            roles, _ = found.setdefault((t.project, kind, name), ([], t))
            roles.append(t.role_name)
    return tuple(_protection(plan, t, kind, name, tuple(roles)) for (_, kind, name), (roles, t) in found.items())


def _protected(t: Target, claims: dict) -> list[tuple[str, str]]:
    wanted = []
    if t.production or claims.get("environment_protected") == "true":
        wanted += [("environment", env) for env in _values(claims.get("environment"))]
    refs = _values(claims.get("ref"))
    ref_type = claims.get("ref_type") if isinstance(claims.get("ref_type"), str) else None
    if refs:
        wanted += [(ref_type or "ref", ref) for ref in refs]
    elif claims.get("ref_protected") == "true":
        wanted.append(("ref", "<BRANCH>"))
    return wanted


def _values(claim: object) -> list[str]:
    if isinstance(claim, str):
        return [claim]
    return [v for v in claim if isinstance(v, str)] if isinstance(claim, list) else []


def _protection(plan: Plan, t: Target, kind: str, name: str, roles: tuple[str, ...]) -> Protection:
    group = t.binding.claim == "namespace_id"
    owner = ("group " if group else "project ") + t.project
    if kind == "environment":
        why = ("the roles bind environment; that binding is only as strong as GitLab's control of who may deploy "
               "there: unprotected, any pipeline that names the environment passes it (protected environments "
               "need Premium; on Free, the protected-ref binding is what keeps other branches out)")
        ui = f"{owner}: Settings > CI/CD > Protected environments: protect {name}, allowed to deploy: Maintainers"
        body = {"name": name, "deploy_access_levels": [{"access_level": MAINTAINER}]}
        api = None if group else _curl(plan, t, "protected_environments", body)
    else:
        which = {"branch": "branches", "tag": "tags"}.get(kind, "branches (or tags)")
        what = ("the branch (or tag) these jobs deploy from, e.g. the default branch"
                if name == "<BRANCH>" else name)
        why = ("the roles bind ref_protected \"true\": whoever may push or merge to a protected ref may run "
               "jobs that read these secrets, so protect only the refs that deploy and restrict who pushes"
               if kind == "ref" else f"the roles bind ref {name}: unprotected, anyone who can push may create it")
        ui = (f"{owner}: Settings > Repository > Protected {which}: protect {what}, allowed to push and merge"
              f"{' (create, for tags)' if kind != 'branch' else ''}: Maintainers")
        if kind == "tag":
            api = _curl(plan, t, "protected_tags", {"name": name, "create_access_level": MAINTAINER})
        else:
            api = _curl(plan, t, "protected_branches", {"name": name, "push_access_level": MAINTAINER,
                                                        "merge_access_level": MAINTAINER})
        api = None if group else api
    return Protection(t.project, kind, name, roles, why, ui, api)


def _curl(plan: Plan, t: Target, resource: str, body: dict) -> str:
    project = t.binding.value if t.binding.known else quote(t.project, safe="")
    url = f"{gitlab_url(plan)}/api/v4/projects/{project}/{resource}"
    return (f"curl --fail --request POST --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" "
            f"--header 'Content-Type: application/json' --data {shlex.quote(json.dumps(body))} {shlex.quote(url)}")


def _delimiter(content: str) -> str:
    """A heredoc delimiter that is no line of the content (content ends where it first appears)."""
    lines = set(content.split("\n"))
    end, n = "EOF", 1
    while end in lines:
        n += 1
        end = f"EOF{n}"
    return end
