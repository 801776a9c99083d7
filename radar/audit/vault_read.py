"""What `radar audit vault` reads from Vault: the JWT/OIDC auth mounts, their config and roles, and
the ACL policies, as frozen dataclasses the rules (`radar.audit.vault`) reason about without I/O.

Requests, all with the token in VAULT_TOKEN and in VAULT_NAMESPACE (or the root):
`GET sys/auth`; per `jwt`/`oidc` mount `GET auth/MOUNT/config`, `LIST auth/MOUNT/role`,
`GET auth/MOUNT/role/NAME`; `LIST sys/policies/acl`, `GET sys/policies/acl/NAME`. A request the
token may not make (403), or a policy that does not parse, becomes an `Unreadable` naming it and
the audit goes on without it; Vault being unreachable, TLS and the like stop it (the client's
errors). Vault's answers are bounded by the client (size, depth, deadline) and here by count:
at most MAX_ITEMS roles and policies in all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from radar.audit.vault_policy import PathRule, PolicyUnreadable, parse_policy
from radar.errors import RadarError
from radar.vault.client import ReadForbidden, ReadNotFound, VaultClient, VaultToken
from radar.vault.walk import TokenRefused

MAX_ITEMS = 20_000
JWT_TYPES = ("jwt", "oidc")


@dataclass(frozen=True)
class JwtMount:
    path: str  # "jwt", "gitlab/jwt": without slashes at either end
    type: str
    max_lease_ttl: int  # the mount's tuned maximum in seconds; 0: the system's (768 h unless changed)
    config_read: bool  # False: no config yet, or it could not be read (then named in an Unreadable)
    bound_issuer: str = ""
    jwks_url: str = ""
    oidc_discovery_url: str = ""


@dataclass(frozen=True)
class JwtRole:
    mount: str
    name: str
    bound_audiences: tuple[str, ...]
    bound_claims: tuple[tuple[str, tuple[str, ...]], ...]  # claim -> accepted values, sorted by claim
    bound_claims_type: str  # "string" or "glob"
    bound_subject: str
    policies: tuple[str, ...]
    token_ttl: int
    token_max_ttl: int
    token_explicit_max_ttl: int

    @property
    def path(self) -> str:
        return f"auth/{self.mount}/role/{self.name}"

    def claim(self, name: str) -> tuple[str, ...]:
        return next((values for claim, values in self.bound_claims if claim == name), ())


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[PathRule, ...]

    @property
    def path(self) -> str:
        return f"sys/policies/acl/{self.name}"


@dataclass(frozen=True)
class Unreadable:
    path: str
    reason: str

    def message(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class VaultConfig:
    mounts: tuple[JwtMount, ...]
    roles: tuple[JwtRole, ...]
    policies: tuple[Policy, ...]
    unreadable: tuple[Unreadable, ...]


class AuditTooLarge(RadarError):
    """Vault lists more roles and policies than an audit reads."""


def read_vault(client: VaultClient, token: VaultToken,
               on_unreadable: Callable[[Unreadable], None] = lambda item: None) -> VaultConfig:
    reader = _Reader(client, token, on_unreadable)
    mounts = reader.mounts()
    roles = [role for m in mounts for role in reader.roles(m.path)]
    return VaultConfig(tuple(mounts), tuple(roles), tuple(reader.policies()), tuple(reader.unreadable))


class _Reader:
    def __init__(self, client: VaultClient, token: VaultToken, on_unreadable: Callable[[Unreadable], None]) -> None:
        self.client, self.token, self.on_unreadable = client, token, on_unreadable
        self.unreadable: list[Unreadable] = []
        self.items = 0

    def _missed(self, path: str, reason: str) -> None:
        item = Unreadable(path, reason)
        self.unreadable.append(item)
        self.on_unreadable(item)

    def _get(self, path: str) -> dict[str, Any] | None:
        try:
            return self.client.read(self.token, path)
        except ReadForbidden:
            self._missed(path, "permission denied (the token needs read there)")
        except ReadNotFound as e:
            self._missed(path, e.reason or "not found")
        return None

    def _list(self, path: str) -> tuple[str, ...] | None:
        try:
            keys = self.client.list(self.token, path)
        except ReadForbidden:
            self._missed(path, "permission denied (the token needs list there)")
            return None
        self.items += len(keys)
        if self.items > MAX_ITEMS:
            raise AuditTooLarge(f"Vault lists more than {MAX_ITEMS} roles and policies; radar audits at most that many")
        return keys

    def mounts(self) -> list[JwtMount]:
        try:
            answer = self.client.read(self.token, "sys/auth")
        except ReadForbidden:
            self._refuse_invalid_token()
            self._missed("sys/auth", "permission denied (the token needs read there)")
            return []
        found = []
        for path, mount in sorted(answer.items()):
            if not isinstance(mount, dict) or mount.get("type") not in JWT_TYPES:
                continue
            name = path.strip("/")
            if not _plain_path(name):
                self._missed(f"sys/auth/{path}", "a mount path radar does not read (empty or with '..')")
                continue
            tuned = mount.get("config") if isinstance(mount.get("config"), dict) else {}
            config = self._config(name)
            text = lambda key: str(config.get(key) or "") if config else ""  # noqa: E731
            found.append(JwtMount(name, str(mount["type"]), _seconds(tuned.get("max_lease_ttl")), config is not None,
                                  text("bound_issuer"), text("jwks_url"), text("oidc_discovery_url")))
        return found

    def _config(self, mount: str) -> dict[str, Any] | None:
        """The mount's config; None when it cannot be read, or when there is none yet (Vault answers
        404: such a mount logs nobody in, so there is nothing to check)."""
        try:
            return self.client.read(self.token, f"auth/{_quoted(mount)}/config")
        except ReadNotFound:
            return None
        except ReadForbidden:
            self._missed(f"auth/{mount}/config", "permission denied (the token needs read there)")
            return None

    def _refuse_invalid_token(self) -> None:
        """Vault answers 403 both to a token it does not know and to one without a grant: tell them
        apart with sys/internal/ui/mounts, which any valid token may read."""
        try:
            self.client.read(self.token, "sys/internal/ui/mounts")
        except ReadForbidden:
            namespace = self.client.settings.namespace
            raise TokenRefused(
                "Vault refused VAULT_TOKEN: even sys/internal/ui/mounts, which any valid token may read, answered "
                "permission denied; is the token valid, unexpired and made in "
                f"{'namespace ' + namespace if namespace else 'the root namespace'} or above it?") from None

    def roles(self, mount: str) -> list[JwtRole]:
        names = self._list(f"auth/{_quoted(mount)}/role")
        roles = []
        for name in names or ():
            if not _plain_name(name):
                self._missed(f"auth/{mount}/role/{name}", "a role name radar does not read (empty, '..' or with '/')")
                continue
            data = self._get(f"auth/{_quoted(mount)}/role/{quote(name, safe='')}")
            if data is not None:
                roles.append(_role(mount, name, data))
        return roles

    def policies(self) -> list[Policy]:
        names = self._list("sys/policies/acl")
        policies = []
        for name in names or ():
            if name == "root" or not _plain_name(name):  # root grants everything by design and holds no rules
                continue
            data = self._get(f"sys/policies/acl/{quote(name, safe='')}")
            if data is None:
                continue
            text = data.get("policy")
            try:
                rules = parse_policy(text if isinstance(text, str) else "")
            except PolicyUnreadable as e:
                self._missed(f"sys/policies/acl/{name}", f"the policy cannot be read: {e}")
                continue
            policies.append(Policy(name, rules))
        return policies


def _role(mount: str, name: str, data: dict[str, Any]) -> JwtRole:
    claims = data.get("bound_claims") if isinstance(data.get("bound_claims"), dict) else {}
    bound = tuple(sorted((str(k), _strings(v)) for k, v in claims.items()))
    policies = _strings(data.get("token_policies")) or _strings(data.get("policies"))
    return JwtRole(
        mount=mount, name=name, bound_audiences=_strings(data.get("bound_audiences")), bound_claims=bound,
        bound_claims_type=str(data.get("bound_claims_type") or "string"), bound_subject=str(data.get("bound_subject") or ""),
        policies=policies, token_ttl=_seconds(data.get("token_ttl")), token_max_ttl=_seconds(data.get("token_max_ttl")),
        token_explicit_max_ttl=_seconds(data.get("token_explicit_max_ttl")),
    )


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value if isinstance(v, (str, int, float, bool)))
    if isinstance(value, (int, float, bool)):
        return (str(value),)
    return ()


def _seconds(value: object) -> int:
    # Vault answers TTLs in seconds; a bad value counts as unset rather than stopping the audit
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float):  # Python's json reads Infinity and NaN, which int() refuses
        return max(int(value), 0) if math.isfinite(value) else 0
    # ASCII digits only: isdigit() holds for superscripts int() cannot read; 18 digits is 31 billion years
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return 0


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name


def _plain_path(path: str) -> bool:
    return bool(path) and all(_plain_name(part) for part in path.split("/"))


def _quoted(path: str) -> str:
    return "/".join(quote(part, safe="") for part in path.split("/"))


class AuditFailed(RadarError):
    """Vault could not be audited at all (unreachable, TLS, the token refused...): exit status 2."""
