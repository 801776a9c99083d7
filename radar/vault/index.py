"""`radar index vault`: Vault's values -> keyed digests, the index that tells a scan which leaked
values are live in Vault.

The walk (`radar.vault.walk`) hands over each value once; its digests (`radar.scan.vault_index.
value_digests`, the fingerprints a scan could give it) are made at once and the value is dropped,
so no value outlives its own iteration and none reaches the file, a message or a log.

Vault is reached as the Vault CLI would: `VAULT_SERVER_URL` (radar's name, as in GitLab) or
`VAULT_ADDR`, `VAULT_NAMESPACE`, `VAULT_CACERT`, and the token in `VAULT_TOKEN`; or, in a CI job,
a JWT login with the job's ID token (`VAULT_AUTH_PATH`, `VAULT_AUTH_ROLE`) as `radar exec` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from radar import __version__
from radar.errors import RadarError
from radar.scan.findings import FingerprintKey
from radar.scan.vault_index import IndexEntry, IndexHeader, value_digests
from radar.vault.client import VaultClient, VaultToken
from radar.vault.errors import VaultConfigError
from radar.vault.model import VaultSettings
from radar.vault.settings import vault_settings
from radar.vault.variables import JobVariables
from radar.vault.walk import GoneVersion, MountWalked, NamespaceWalked, Scope, StoredValue, Unreadable, walk

TOKEN_VARIABLE = "VAULT_TOKEN"


@dataclass(frozen=True)
class BuiltIndex:
    header: IndexHeader
    entries: tuple[IndexEntry, ...]
    unreadable: tuple[Unreadable, ...]
    secrets: int


def index_settings(environ: Mapping[str, str]) -> VaultSettings:
    """Where Vault is: VAULT_SERVER_URL, else the Vault CLI's VAULT_ADDR; the other VAULT_* as for exec."""
    url = (environ.get("VAULT_SERVER_URL") or "").strip() or (environ.get("VAULT_ADDR") or "").strip()
    if not url:
        raise VaultConfigError("no Vault address: set VAULT_ADDR (or VAULT_SERVER_URL) to your Vault server's URL, "
                               "such as https://vault.example.com:8200")
    return vault_settings(JobVariables((), {**environ, "VAULT_SERVER_URL": url}))


def index_token(client: VaultClient, environ: Mapping[str, str], id_token_variable: str | None) -> VaultToken:
    """The token to walk with: a JWT login with the ID token in `id_token_variable` when given,
    else $VAULT_TOKEN."""
    if id_token_variable is not None:
        jwt = (environ.get(id_token_variable) or "").strip()
        if not jwt:
            raise VaultConfigError(f"ID token variable {id_token_variable} is not set; in GitLab CI define it "
                                   f"under the job's id_tokens: ({id_token_variable}: aud: ...)")
        return client.login(jwt, id_token_variable)
    token = (environ.get(TOKEN_VARIABLE) or "").strip()
    if not token:
        raise VaultConfigError(f"no Vault token: set {TOKEN_VARIABLE} (a token whose policy may list and read "
                               f"the secrets, see radar index vault --help), or log in with --id-token VARIABLE")
    return VaultToken(token)


def build_index(client: VaultClient, token: VaultToken, scope: Scope, key: FingerprintKey, generated: str,
                on_unreadable: Callable[[Unreadable], None] = lambda item: None) -> BuiltIndex:
    """Walk Vault and digest every value; `on_unreadable` hears of each thing that could not be read
    as the walk meets it."""
    from radar.scan.engine import Engine  # the detector suite: what a scan would find in a value
    from radar.scan.rules import load_default_rules

    engine = Engine(load_default_rules(), key)
    entries: list[IndexEntry] = []
    unreadable: list[Unreadable] = []
    namespaces: list[str] = []
    mounts: list[MountWalked] = []
    secrets: set[tuple[str, str, str]] = set()
    values = 0
    for item in walk(client, token, scope):
        if isinstance(item, StoredValue):
            values += 1
            secrets.add((item.namespace, item.mount, item.path))
            for digest, form in value_digests(item.value, key, engine).items():
                entries.append(IndexEntry(digest, item.namespace, item.mount, item.path, item.field, item.version,
                                          item.latest, form=form))
        elif isinstance(item, GoneVersion):
            secrets.add((item.namespace, item.mount, item.path))
            entries.append(IndexEntry(None, item.namespace, item.mount, item.path, None, item.version, item.latest,
                                      deleted=not item.destroyed, destroyed=item.destroyed))
        elif isinstance(item, Unreadable):
            unreadable.append(item)
            on_unreadable(item)
        elif isinstance(item, NamespaceWalked):
            namespaces.append(item.namespace)
        else:
            mounts.append(item)
    for missing in _unmatched(scope, mounts):
        unreadable.append(missing)
        on_unreadable(missing)
    entries.sort(key=lambda e: e.sort_key)
    header = IndexHeader(
        key_id=key.key_id, vault=client.settings.server_url, namespaces=tuple(sorted(namespaces)),
        mounts=tuple(sorted((m.namespace, m.mount, m.kv_version) for m in mounts)), generated=generated,
        radar_version=__version__, complete=not unreadable, unreadable=len(unreadable), values=values,
        entries=len(entries),
    )
    return BuiltIndex(header, tuple(entries), tuple(unreadable), len(secrets))


def _unmatched(scope: Scope, mounts: list[MountWalked]) -> list[Unreadable]:
    """A --mount or --path that named no key/value mount in any namespace walked: a typo, or a mount
    the token may not see; the index lacks what it was asked for either way."""
    names = {m.mount for m in mounts}
    missing = [Unreadable("", f"--mount {wanted}", "no key/value mount of that name in any namespace walked")
               for wanted in scope.mounts if wanted.strip("/") not in names]
    missing += [Unreadable("", f"--path {wanted}", "in no key/value mount of any namespace walked")
                for wanted in scope.paths
                if not any((wanted.strip("/") + "/").startswith(name + "/") for name in names)]
    return missing


class IndexFailed(RadarError):
    """Vault could not be walked at all (unreachable, refused the login, TLS...): exit status 2, like
    any error of a command whose exit 1 means nothing."""
