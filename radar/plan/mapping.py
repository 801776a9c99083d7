"""The mapping file (`radar plan --mapping FILE`): defaults, project ids and rules, in TOML.

```toml
[vault]                                   # every key optional; these are the defaults
mount = "secret"                          # the KV v2 mount
path = "ci/{project}/{environment}"       # the secret's path; {project}, {environment}, {type}
audience = "https://vault.example.com"    # id_tokens: aud and the role's bound_audiences
auth_path = "jwt"                         # where JWT auth is mounted (VAULT_AUTH_PATH)
token_ttl = 300                           # token_explicit_max_ttl, seconds (at most 3600)
user_claim = "user_email"
token_variable = "VAULT_ID_TOKEN"
gitlab_url = "https://gitlab.example.com" # GitLab's `iss`: the JWT config's issuer (no default)

[project]                                 # the project a directory or history scan belongs to
path = "mygroup/app"
id = 42                                   # or namespace_id = 7 (binds the role to the group)
public = false                            # true: the code was ever public, rotate everything

[projects."mygroup/other"]                # ids for other projects (GitLab scans carry their own)
id = 43

[roles]                                   # what roles bind besides the project (defaults shown)
default_branch = "main"                   # production roles bind ref = this branch (or --default-branch)
protected_refs = ["main", "release/*"]    # or these protected refs instead (any of; `*` is a glob)
ref_type = "branch"                       # or "tag" (then protected_refs names the tags)
pipeline_sources = ["push"]               # production: these pipeline sources (GitLab's list)
environment_protected = true              # production: bind environment_protected "true"
ref_protected = true                      # other environments and shared: protected refs only
unprotected_environments = ["review/*"]   # globs: these environments' roles admit any ref

[[rules]]                                 # the first rule whose conditions all match applies
path = "deploy/prod/**"                   # conditions: globs on the finding's path, its name
name = "*PASSWORD*"                       # (variable or key, case-insensitive), secret_type,
secret_type = "*"                         # project, scope (GitLab's environment_scope)
environment = "production"                # outcomes: environment, secret_path, field, mount,
field = "db_password"                     # file (true/false), skip (a reason: not planned)
```

Globs are `fnmatch` globs where `**` and `*` both cross `/`. The command line (`--mount`,
`--path-template`, `--audience`, `--project`, `--project-id`, `--namespace-id`, `--public`,
`--default-branch`) overrides the file. `[roles]` values are checked here: a ref is a short
branch or tag name, a pipeline source one of GitLab's documented values (`PIPELINE_SOURCES`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from radar.errors import RadarError
from radar.plan.model import PIPELINE_SOURCES, RoleRules, Settings

DEFAULT_SETTINGS = Settings(
    mount="secret",
    path_template="ci/{project}/{environment}",
    audience="https://vault.example.com",
    auth_path="jwt",
    token_ttl=300,
    user_claim="user_email",
    token_variable="VAULT_ID_TOKEN",
)
MAX_TTL = 3600
TEMPLATE_FIELDS = ("project", "environment", "type")
_VAULT_KEYS = {"mount": "mount", "path": "path_template", "audience": "audience", "auth_path": "auth_path",
               "token_ttl": "token_ttl", "user_claim": "user_claim", "token_variable": "token_variable",
               "gitlab_url": "gitlab_url"}
_AUTH_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")
_ROLE_KEYS = ("default_branch", "protected_refs", "ref_type", "pipeline_sources", "environment_protected",
              "ref_protected", "unprotected_environments")
REF_TYPES = ("branch", "tag")
_CONDITIONS = ("path", "name", "secret_type", "project", "scope")
_OUTCOMES = {"environment": str, "secret_path": str, "field": str, "mount": str, "file": bool, "skip": str}


class MappingError(RadarError):
    """The mapping file is missing, not TOML, or says something radar cannot use."""


@dataclass(frozen=True)
class ProjectInfo:
    project_id: int | None = None
    namespace_id: int | None = None
    public: bool = False


@dataclass(frozen=True)
class Rule:
    conditions: tuple[tuple[str, str], ...]  # (condition, glob)
    environment: str | None = None
    secret_path: str | None = None
    field: str | None = None
    mount: str | None = None
    file: bool | None = None
    skip: str | None = None

    def matches(self, facts: dict[str, str]) -> bool:
        return all(_glob(facts.get(key, ""), pattern, key == "name") for key, pattern in self.conditions)


@dataclass(frozen=True)
class Mapping:
    settings: Settings = DEFAULT_SETTINGS
    default_project: str | None = None  # directory and history scans belong to this project
    projects: dict[str, ProjectInfo] = field(default_factory=dict, hash=False)
    rules: tuple[Rule, ...] = ()

    def project(self, path: str) -> ProjectInfo:
        return self.projects.get(path, ProjectInfo())

    def rule_for(self, facts: dict[str, str]) -> Rule | None:
        return next((r for r in self.rules if r.matches(facts)), None)

    def with_project(self, path: str | None, info: ProjectInfo) -> Mapping:
        """The CLI's --project/--project-id/--namespace-id/--public on top of the file."""
        name = path or self.default_project
        if name is None:
            return self
        known = self.projects.get(name, ProjectInfo())
        merged = ProjectInfo(
            project_id=info.project_id if info.project_id is not None else known.project_id,
            namespace_id=info.namespace_id if info.namespace_id is not None else known.namespace_id,
            public=info.public or known.public,
        )
        return replace(self, default_project=name, projects={**self.projects, name: merged})


def load_mapping(path: str | None) -> Mapping:
    if path is None:
        return Mapping()
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file; check --mapping") from None
    except OSError as e:
        raise MappingError(f"{path}: cannot read the mapping file: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{path}: not valid TOML: {e}; see the mapping format in the README") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise MappingError(f"{path}: arrays or tables nested too deeply (hundreds of levels); "
                           "see the mapping format in the README") from None
    return parse_mapping(data, path)


def parse_mapping(data: dict[str, Any], path: str = "<mapping>") -> Mapping:
    unknown = sorted(set(data) - {"vault", "roles", "project", "projects", "rules"})
    if unknown:
        raise MappingError(f"{path}: unknown section(s) {', '.join(unknown)}; use vault, roles, project, projects, rules")
    settings = DEFAULT_SETTINGS
    vault = _table(data.get("vault", {}), f"{path}: [vault]")
    for key, value in vault.items():
        if key not in _VAULT_KEYS:
            raise MappingError(f"{path}: [vault] has unknown key {key!r}; use {', '.join(_VAULT_KEYS)}")
        settings = replace(settings, **{_VAULT_KEYS[key]: value})
    settings = checked_settings(settings, f"{path}: [vault]")
    if "roles" in data:
        settings = replace(settings, roles=role_rules(_table(data["roles"], f"{path}: [roles]"), f"{path}: [roles]"))

    default_project = None
    projects: dict[str, ProjectInfo] = {}
    if "project" in data:
        table = _table(data["project"], f"{path}: [project]")
        default_project = table.get("path")
        if not isinstance(default_project, str) or not default_project.strip("/"):
            raise MappingError(f"{path}: [project] needs path = \"group/project\"")
        projects[default_project] = _project_info(table, f"{path}: [project]", allowed={"path"})
    for name, table in _table(data.get("projects", {}), f"{path}: [projects]").items():
        projects[name] = _project_info(_table(table, f"{path}: [projects.{name!r}]"), f"{path}: [projects.{name!r}]")

    rules_raw = data.get("rules", [])
    if not isinstance(rules_raw, list):
        raise MappingError(f"{path}: rules must be an array of tables ([[rules]])")
    rules = tuple(_rule(_table(r, f"{path}: rules[{i}]"), f"{path}: rules[{i}]") for i, r in enumerate(rules_raw))
    return Mapping(settings, default_project, projects, rules)


def checked_settings(settings: Settings, where: str) -> Settings:
    """Settings after every value was checked; errors say which key and what it must be."""
    for name in ("mount", "path_template", "audience", "auth_path", "user_claim", "token_variable"):
        value = getattr(settings, name)
        if not isinstance(value, str) or not value.strip():
            raise MappingError(f"{where}: {name} must be a non-empty string")
    if not isinstance(settings.token_ttl, int) or isinstance(settings.token_ttl, bool) \
            or not 1 <= settings.token_ttl <= MAX_TTL:
        raise MappingError(f"{where}: token_ttl must be a whole number of seconds from 1 to {MAX_TTL}")
    check_template(settings.path_template, where)
    # The auth path is a Vault path in the plan's commands, files and CI variables: plain segments.
    if not _AUTH_PATH.fullmatch(settings.auth_path.strip("/")):
        raise MappingError(f"{where}: auth_path must be a Vault mount path of letters, digits, `_`, `-` and `.` "
                           "segments, like jwt or gitlab/jwt")
    if settings.gitlab_url is not None:
        settings = replace(settings, gitlab_url=checked_gitlab_url(settings.gitlab_url, where))
    return settings


def checked_gitlab_url(url: object, where: str) -> str:
    """GitLab's address as its ID tokens' `iss` says it: scheme and host (and a relative root), no
    trailing slash. It ends up in JSON files and in the plan's commands, so nothing else passes."""
    from urllib.parse import urlsplit

    how = f"{where}: gitlab_url must be GitLab's address, like https://gitlab.example.com"
    # fullmatch, not match: `$` would let a trailing newline through.
    if not isinstance(url, str) or not re.fullmatch(r"https?://[A-Za-z0-9._~:/\[\]%-]+", url):
        raise MappingError(how)
    try:
        parts = urlsplit(url.rstrip("/"))
        parts.port  # a malformed port raises here
    except ValueError:
        raise MappingError(how) from None
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise MappingError(how)
    return parts.geturl()
def role_rules(table: dict[str, Any], where: str, rules: RoleRules = RoleRules()) -> RoleRules:
    """The `[roles]` table over `rules`; errors name the key and the values it takes."""
    unknown = sorted(set(table) - set(_ROLE_KEYS))
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(unknown)}; use {', '.join(_ROLE_KEYS)}")
    changes: dict[str, Any] = {}
    if "default_branch" in table:
        changes["default_branch"] = check_ref(table["default_branch"], f"{where}: default_branch")
        changes["default_branch_source"] = "mapping"
    if "protected_refs" in table:
        changes["refs"] = tuple(check_ref(r, f"{where}: protected_refs")
                                for r in _names(table["protected_refs"], f"{where}: protected_refs", "refs"))
    if "ref_type" in table:
        if table["ref_type"] not in REF_TYPES:
            raise MappingError(f"{where}: ref_type must be \"branch\" or \"tag\"")
        changes["ref_type"] = table["ref_type"]
    if "pipeline_sources" in table:
        sources = _names(table["pipeline_sources"], f"{where}: pipeline_sources", "pipeline sources")
        bad = [s for s in sources if s not in PIPELINE_SOURCES]
        if bad:
            raise MappingError(f"{where}: pipeline_sources has {bad[0][:60]!r}, not a GitLab pipeline source; "
                               f"use {', '.join(PIPELINE_SOURCES)}")
        changes["pipeline_sources"] = tuple(dict.fromkeys(sources))
    for key in ("environment_protected", "ref_protected"):
        if key in table:
            if not isinstance(table[key], bool):
                raise MappingError(f"{where}: {key} must be true or false")
            changes[key] = table[key]
    if "unprotected_environments" in table:
        changes["unprotected_environments"] = tuple(
            _names(table["unprotected_environments"], f"{where}: unprotected_environments", "environment globs", 0))
    merged = replace(rules, **changes)
    if merged.ref_type == "tag" and not merged.refs:
        raise MappingError(f"{where}: ref_type = \"tag\" needs protected_refs, the tags that deploy "
                           "(e.g. [\"v*\"]); the default branch is not a tag")
    return merged


def check_ref(value: Any, where: str) -> str:
    """A branch or tag name as GitLab puts it in `ref` (no `refs/heads/`), or a MappingError."""
    if not isinstance(value, str) or not value.strip() or value != value.strip() \
            or any(not ch.isprintable() for ch in value) or len(value) > 255:
        raise MappingError(f"{where}: a ref must be a branch or tag name like \"main\" (printable, no "
                           "surrounding spaces, at most 255 characters)")
    if value.startswith("refs/"):
        raise MappingError(f"{where}: {value[:60]!r}: give the short name (\"main\"), as GitLab's ref claim "
                           "carries it, not refs/heads/...")
    return value


def _names(value: Any, where: str, what: str, fewest: int = 1) -> list[str]:
    if not isinstance(value, list) or not fewest <= len(value) <= 100 \
            or not all(isinstance(v, str) and v.strip() for v in value):
        raise MappingError(f"{where} must be a list of {fewest} to 100 non-empty {what}, e.g. [\"a\", \"b\"]")
    return value


def check_template(template: str, where: str) -> None:
    import string

    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as e:
        raise MappingError(f"{where}: path template {template!r} is malformed ({e})") from None
    bad = [n for n in names if n not in TEMPLATE_FIELDS]
    if bad:
        raise MappingError(f"{where}: path template {template!r} uses unknown {{{bad[0]}}}; "
                           f"use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}")


def _project_info(table: dict[str, Any], where: str, allowed: set[str] = frozenset()) -> ProjectInfo:
    unknown = sorted(set(table) - {"id", "namespace_id", "public"} - allowed)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(unknown)}; use id, namespace_id, public")
    for key in ("id", "namespace_id"):
        value = table.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise MappingError(f"{where}: {key} must be GitLab's numeric id (a whole number), e.g. {key} = 42")
    public = table.get("public", False)
    if not isinstance(public, bool):
        raise MappingError(f"{where}: public must be true or false")
    return ProjectInfo(table.get("id"), table.get("namespace_id"), public)


def _rule(table: dict[str, Any], where: str) -> Rule:
    unknown = sorted(set(table) - set(_CONDITIONS) - set(_OUTCOMES))
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(unknown)}; conditions are "
                           f"{', '.join(_CONDITIONS)}, outcomes {', '.join(_OUTCOMES)}")
    conditions = []
    for key in _CONDITIONS:
        if key in table:
            if not isinstance(table[key], str):
                raise MappingError(f"{where}: {key} must be a glob string")
            conditions.append((key, table[key]))
    outcomes: dict[str, Any] = {}
    for key, kind in _OUTCOMES.items():
        if key in table:
            if not isinstance(table[key], kind) or (kind is str and not table[key].strip()):
                raise MappingError(f"{where}: {key} must be {'true or false' if kind is bool else 'a non-empty string'}")
            outcomes[key] = table[key]
    if "secret_path" in outcomes:
        check_template(outcomes["secret_path"], where)
    return Rule(conditions=tuple(conditions), **outcomes)


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingError(f"{where} must be a table")
    return value


def _glob(value: str, pattern: str, fold: bool) -> bool:
    if fold:
        value, pattern = value.lower(), pattern.lower()
    return fnmatchcase(value, pattern.replace("**", "*"))
