"""Walking Vault's key/value secrets for the Vault index (`radar index vault`): every value the
token may read, in every version, handed to the caller one at a time and never kept here.

What is walked, and with which requests (all with the token, each in its namespace):

- namespaces: the starting one (VAULT_NAMESPACE, else the root) and every one below it, found
  with `LIST sys/namespaces` in each. Vault without namespaces answers 404 there: no children;
- mounts of each namespace: `GET sys/mounts` when the token may read it, else
  `GET sys/internal/ui/mounts` (what the Vault CLI's `kv` commands use: any token may read it,
  and it lists the mounts the token has some capability on). Only key/value mounts are walked:
  type `kv` (version 2 when its options say so, else 1) and `generic` (KV v1);
- KV v2: `LIST MOUNT/metadata/FOLDER/` from the top (or from each `--path`); per secret `GET
  MOUNT/data/PATH` (the latest version, and its number N), then `GET MOUNT/data/PATH?version=n`
  for each n < N. Vault keeps the last 10 versions unless told otherwise, so for N up to 10 each
  older one is asked for directly (a secret of one version costs one request, where reading its
  metadata first would cost two); beyond, `GET MOUNT/metadata/PATH` says which versions Vault
  still keeps. A deleted or destroyed version has no value to give: Vault says which it is in
  the 404's metadata, and it becomes a `GoneVersion`, so the index still says it exists;
- KV v1: `LIST MOUNT/FOLDER/` and `GET MOUNT/PATH`.

Requests run on MAX_PARALLEL_REQUESTS threads (the client keeps a connection per thread); the
caller's loop gets the results in the order they arrive and computes digests while the threads
wait for Vault. A list or read the token may not make (403), and an answer Vault refuses for one
path, is an `Unreadable` item naming it, and the walk goes on; an unreachable or sealed Vault, a
TLS failure or an unsafe redirect stops it (the client's server-wide errors).

A broken or hostile server cannot make the walk endless or its memory unbounded: folders nest at
most MAX_DEPTH deep, at most MAX_ITEMS folders, secrets and versions are visited (IndexTooLarge
beyond), a key that is not one plain name (`..`, `a/b`, empty) is refused as unreadable, every
name goes into the URL percent-encoded, and the client's deadline (`--vault-timeout`) covers the
whole walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from radar.errors import RadarError
from radar.vault.client import ReadForbidden, ReadNotFound, VaultClient, VaultToken
from radar.vault.errors import VaultError
from radar.vault.resolve import SERVER_WIDE, field_text

MAX_PARALLEL_REQUESTS = 8  # as many as `radar exec` reads with: Vault serves them side by side
MAX_DEPTH = 64
MAX_ITEMS = 2_000_000
GUESSED_VERSIONS = 10  # Vault's default max_versions: how many versions a secret keeps


class TokenRefused(RadarError):
    """Vault accepts the token for nothing at all: invalid, expired, or from another namespace."""


class IndexTooLarge(RadarError):
    """Vault holds more than MAX_ITEMS folders, secrets and versions where the walk was asked to look."""


@dataclass(frozen=True)
class Scope:
    """What to walk in each namespace: `mounts` whole, `paths` (MOUNT/PREFIX) in part; both empty:
    every key/value mount."""

    mounts: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.mounts and not self.paths


@dataclass(frozen=True)
class StoredValue:
    """One field of one version of a secret, with its value as a job would get it (`repr` hides it)."""

    namespace: str
    mount: str
    path: str
    field: str
    version: int | None  # None: KV v1
    latest: bool
    value: str = field(repr=False)


@dataclass(frozen=True)
class GoneVersion:
    """A KV v2 version whose value Vault no longer gives out: deleted (recoverable) or destroyed."""

    namespace: str
    mount: str
    path: str
    version: int
    latest: bool
    destroyed: bool


@dataclass(frozen=True)
class Unreadable:
    """Something the walk was meant to read and could not (`what`: the API path, `reason`: why)."""

    namespace: str
    what: str
    reason: str

    def message(self) -> str:
        where = f"namespace {self.namespace}: " if self.namespace else ""
        return f"{where}{self.what}: {self.reason}"


@dataclass(frozen=True)
class NamespaceWalked:
    """A namespace the walk went through ("" the root, else its path ending in `/`)."""

    namespace: str


@dataclass(frozen=True)
class MountWalked:
    """A key/value mount the walk went through (`kv_version` 1 or 2)."""

    namespace: str
    mount: str
    kv_version: int


Item = StoredValue | GoneVersion | Unreadable | NamespaceWalked | MountWalked


@dataclass
class _Step:
    """What one request gave: items for the caller, and requests to make next."""

    items: list[Item] = field(default_factory=list)
    next: list[tuple[Callable[..., _Step], tuple[Any, ...]]] = field(default_factory=list)
    current: int | None = None  # the KV v2 version a read found


class _Walker:
    def __init__(self, client: VaultClient, token: VaultToken, scope: Scope, start: str) -> None:
        self.client = client
        self.token = token
        self.scope = scope
        self.start = start
        self.visited = 0

    # --- requests, each run on a worker thread ----------------------------------------------

    def children(self, namespace: str) -> _Step:
        """The namespaces right below `namespace`, each walked next."""
        step = _Step()
        try:
            keys = self.client.list(self.token, "sys/namespaces", namespace=namespace)
        except (ReadForbidden, VaultError) as exc:
            step.items.append(_unreadable(exc, namespace, "sys/namespaces (child namespaces)"))
            return step
        for key in keys:
            if not _plain(key, folder=True):
                step.items.append(Unreadable(namespace, f"sys/namespaces: {key}", "not a namespace name radar reads"))
                continue
            step.next.append((self.mounts, (namespace + key,)))
        return step

    def mounts(self, namespace: str) -> _Step:
        """The key/value mounts of `namespace`, each walked next, then the namespaces below it (the
        starting namespace's mounts come first: a token Vault refuses fails there, before any warning)."""
        step = _Step(items=[NamespaceWalked(namespace)], next=[(self.children, (namespace,))])
        try:
            table = self.client.read(self.token, "sys/mounts", namespace=namespace)
        except ReadForbidden:
            try:
                table = self.client.read(self.token, "sys/internal/ui/mounts", namespace=namespace).get("secret")
            except ReadForbidden:
                if namespace == self.start:  # nothing could be read anywhere: say why once, not as a warning
                    raise TokenRefused(
                        "Vault refused the token: even sys/internal/ui/mounts, which any valid token may read, "
                        "answered permission denied; is the token valid, unexpired and made in "
                        f"{'namespace ' + namespace if namespace else 'the root namespace'} or above it?"
                    ) from None
                step.items.append(Unreadable(namespace, "sys/mounts and sys/internal/ui/mounts", "permission denied"))
                return step
            except (ReadNotFound, VaultError) as exc:
                step.items.append(_unreadable(exc, namespace, "sys/mounts and sys/internal/ui/mounts"))
                return step
        except (ReadNotFound, VaultError) as exc:
            step.items.append(_unreadable(exc, namespace, "sys/mounts"))
            return step
        for name, info in sorted((table or {}).items()):
            kv_version = _kv_version(info)
            mount = name.strip("/") if isinstance(name, str) else ""
            if kv_version is None or not mount:
                continue
            starts = self._starts(mount)
            if starts:
                step.items.append(MountWalked(namespace, mount, kv_version))
            for folder, secret in starts:
                if folder is not None:
                    step.next.append((self.folder, (namespace, mount, kv_version, folder, 0)))
                if secret is not None:
                    step.next.append((self.secret, (namespace, mount, kv_version, secret)))
        return step

    def folder(self, namespace: str, mount: str, kv_version: int, folder: str, depth: int) -> _Step:
        step = _Step()
        api = f"{mount}/metadata/{folder}" if kv_version == 2 else f"{mount}/{folder}"
        try:
            keys = self.client.list(self.token, _url(api), namespace=namespace)
        except (ReadForbidden, VaultError) as exc:
            step.items.append(_unreadable(exc, namespace, api))
            return step
        for key in keys:
            if not _plain(key, folder=key.endswith("/")):
                step.items.append(Unreadable(namespace, api + key, "not a key name radar reads"))
            elif key.endswith("/") and depth + 1 >= MAX_DEPTH:
                step.items.append(Unreadable(namespace, api + key, f"folders nested over {MAX_DEPTH} deep"))
            elif key.endswith("/"):
                step.next.append((self.folder, (namespace, mount, kv_version, folder + key, depth + 1)))
            else:
                step.next.append((self.secret, (namespace, mount, kv_version, folder + key)))
        return step

    def secret(self, namespace: str, mount: str, kv_version: int, path: str) -> _Step:
        if kv_version == 1:
            return self._read(namespace, mount, path, None, True, f"{mount}/{path}", v2=False)
        step = self._read(namespace, mount, path, None, True, f"{mount}/data/{path}", v2=True)
        current = step.current
        if current is None or current == 1:
            return step
        if current <= GUESSED_VERSIONS:
            # Vault keeps the last 10 versions unless told otherwise: asking for each older one costs
            # fewer requests than the metadata first (one a secret); a version no longer kept is a 404.
            step.next += [(self.version, (namespace, mount, path, n, False)) for n in range(1, current)]
        else:
            step.next.append((self.metadata, (namespace, mount, path, current)))
        return step

    def metadata(self, namespace: str, mount: str, path: str, current: int) -> _Step:
        """The versions older than `current` that Vault keeps, for a secret with many."""
        step = _Step()
        api = f"{mount}/metadata/{path}"
        try:
            metadata = self.client.read(self.token, _url(api), namespace=namespace)
        except ReadNotFound:
            return step  # deleted since
        except (ReadForbidden, VaultError) as exc:
            step.items.append(_unreadable(exc, namespace, f"{api} (versions before {current})"))
            return step
        versions = metadata.get("versions")
        if not isinstance(versions, dict):
            step.items.append(Unreadable(namespace, api, "Vault's answer lists no versions"))
            return step
        for key, info in versions.items():
            number = _version_number(key)
            if number is None or not isinstance(info, dict):
                step.items.append(Unreadable(namespace, api, "Vault's answer names a version that is not a number"))
            elif number >= current:
                continue  # read already (or written since: the next index will have it)
            elif info.get("destroyed") is True:
                step.items.append(GoneVersion(namespace, mount, path, number, False, destroyed=True))
            else:
                step.next.append((self.version, (namespace, mount, path, number, False)))
        return step

    def version(self, namespace: str, mount: str, path: str, number: int, latest: bool) -> _Step:
        return self._read(namespace, mount, path, number, latest, f"{mount}/data/{path}", v2=True,
                          query=f"?version={number}")

    def _read(self, namespace: str, mount: str, path: str, number: int | None, latest: bool, api: str, *,
              v2: bool, query: str = "") -> _Step:
        """The fields of one KV v1 secret (`number` None, at `MOUNT/PATH`) or of one KV v2 version (at
        `MOUNT/data/PATH`, the latest when `number` is None); `step.current` is the KV v2 version read."""
        step = _Step()
        try:
            data = self.client.read(self.token, _url(api) + query, namespace=namespace)
        except ReadNotFound as exc:
            # KV v2 describes a deleted or destroyed version in the 404's metadata; no metadata: no
            # such secret (deleted since it was listed, or a --path naming none) or version (not kept).
            gone = exc.data.get("metadata") if v2 else None
            found = _version_number(str(gone.get("version"))) if isinstance(gone, dict) else None
            if found is not None and (number is None or found == number):
                step.items.append(GoneVersion(namespace, mount, path, found, latest, gone.get("destroyed") is True))
                step.current = found
            return step
        except (ReadForbidden, VaultError) as exc:
            step.items.append(_unreadable(exc, namespace, api + query))
            return step
        fields = data.get("data") if v2 else data
        if v2:
            metadata = data.get("metadata")
            step.current = _version_number(str(metadata.get("version"))) if isinstance(metadata, dict) else None
            if step.current is None or (number is not None and step.current != number):
                step.items.append(Unreadable(namespace, api + query, "Vault's answer does not say which version it holds"))
                step.current = None
                return step
        if not isinstance(fields, dict):
            step.items.append(Unreadable(namespace, api + query, "Vault's answer holds no fields"))
            return step
        version = step.current if v2 else None
        for name, value in fields.items():
            if value is not None:  # a null field is nothing a job could be given
                step.items.append(StoredValue(namespace, mount, path, name, version, latest, field_text(value)))
        return step

    # --- what to walk -----------------------------------------------------------------------

    def _starts(self, mount: str) -> list[tuple[str | None, str | None]]:
        """Where to begin in `mount`: (folder, secret) pairs, either None; [] to leave it out."""
        if self.scope.everything or mount in (m.strip("/") for m in self.scope.mounts):
            return [("", None)]
        starts: list[tuple[str | None, str | None]] = []
        for wanted in self.scope.paths:
            wanted = wanted.lstrip("/")
            if wanted.rstrip("/") == mount:
                starts.append(("", None))
                continue
            if not wanted.startswith(mount + "/"):
                continue
            rest = wanted[len(mount) + 1:]
            if not rest or rest.endswith("/"):
                starts.append((rest, None))
            else:  # a folder or a secret of that name: both are looked for
                starts.append((rest + "/", rest))
        return starts

    def count(self, n: int) -> None:
        self.visited += n
        if self.visited > MAX_ITEMS:
            raise IndexTooLarge(
                f"Vault holds more than {MAX_ITEMS} folders, secrets and versions where radar was asked to "
                f"look; index it in parts with --mount or --path"
            )


def walk(client: VaultClient, token: VaultToken, scope: Scope = Scope(), *,
         workers: int = MAX_PARALLEL_REQUESTS) -> Iterator[Item]:
    """Every item of the walk, in the order Vault answers; stops at the first server-wide error
    (raised) and leaves no request running when the caller stops early."""
    start = client.settings.namespace or ""
    if start:
        start = start.strip("/") + "/"
    walker = _Walker(client, token, scope, start)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="radar-vault-walk")
    pending: set[Future[_Step]] = {pool.submit(walker.mounts, start)}
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                step = future.result()  # a server-wide error is raised here
                walker.count(len(step.next))
                yield from step.items
                pending.update(pool.submit(task, *arguments) for task, arguments in step.next)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _unreadable(exc: Exception, namespace: str, what: str) -> Unreadable:
    """What a failed request of one path becomes; a server-wide failure is raised again: it would
    fail every other request too."""
    if isinstance(exc, SERVER_WIDE):
        raise exc
    if isinstance(exc, ReadForbidden):
        return Unreadable(namespace, what, "permission denied")
    if isinstance(exc, ReadNotFound):
        return Unreadable(namespace, what, exc.reason or "not found")
    return Unreadable(namespace, what, str(exc))


def _kv_version(info: Any) -> int | None:
    """2 or 1 for a key/value mount's description in sys/mounts, None for any other engine."""
    if not isinstance(info, dict):
        return None
    if info.get("type") == "generic":
        return 1
    if info.get("type") != "kv":
        return None
    options = info.get("options")
    return 2 if isinstance(options, dict) and str(options.get("version")) == "2" else 1


def _plain(key: str, *, folder: bool) -> bool:
    """Whether a listed key is one name (a folder's ends in its one `/`), safe to put in a path."""
    name = key[:-1] if folder else key
    return bool(name) and "/" not in name and name not in (".", "..") and (key.endswith("/") == folder)


def _version_number(key: Any) -> int | None:
    if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 18:
        return int(key) or None
    return None


def _url(api: str) -> str:
    """The API path percent-encoded: a key may hold `?`, `#`, `%` or spaces."""
    return quote(api, safe="/")
