"""The leases of the secrets a run read, and radar's own Vault tokens: kept alive while CMD runs,
revoked when it ends.

Dynamic secrets (database users, cloud keys) come with a lease; the token from radar's login has
a TTL of its own, and Vault revokes a token's leases when the token expires. `LeaseKeeper`
collects both as `resolve` obtains them, then:

- while CMD runs (`start`), a background thread renews each renewable one before two thirds of
  its current duration has passed, asking for its first duration again (`sys/leases/renew`,
  `auth/token/renew-self`). Vault granting less than asked means the max TTL is near: one
  warning names the secret's variable(s) and when it expires, and it is not asked again. A
  failed renewal: one warning, CMD keeps running, and it is tried again halfway to expiry.
  Each renewal has a deadline of one request timeout; CMD's start never waits for it.
- when the run ends (`close`, on every path that removes secret files: CMD's exit, a failure
  before CMD starts, a signal), every lease is revoked (`sys/leases/revoke`), then each token
  revokes itself (`auth/token/revoke-self`, which also ends the leases it still holds, so a
  policy without `sys/leases/revoke` loses nothing). Waiting for a renewal in flight and all
  the revocations share one deadline of one request timeout, so a hung Vault delays radar's
  exit by at most that; signals are held meanwhile, so a second Ctrl-C cannot leave half the
  credentials alive. `keep=True` (`--keep-leases`) revokes nothing; renewal still runs, as the
  job uses the credentials until it ends.

Every token here is one radar created by logging in: radar never revokes a token it was given.
Lease ids and tokens appear in no message; warnings name variables.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from radar.errors import RadarError
from radar.vault.client import LeaseGrant, VaultClient, VaultToken
from radar.vault.deliver import HELD_SIGNALS

log = logging.getLogger("radar.vault")

RENEW_AT = 2 / 3  # of a lease's current duration
MIN_RETRY_SECONDS = 1.0  # a failed renewal closer than this to expiry is not tried again
# Vault's answer to a renewal that comes after the max TTL was reached (a late one on a busy
# host): the same news as a shortened grant, not a failure.
PAST_MAX_TTL = "past the max TTL"


@dataclass(eq=False)
class _Held:
    """One lease (or, with `lease_id` None, the token itself) and its renewal schedule."""

    what: str  # "the lease of secret DB" / "the Vault token from the login with VAULT_ID_TOKEN": for messages
    token: VaultToken
    lease_id: str | None = field(repr=False)
    increment: int  # the first duration: what each renewal asks for
    expires_at: float  # time.monotonic()
    next_at: float | None  # None: never renewed again
    warned: bool = False


class LeaseKeeper:
    """Leases and tokens of one run; a context manager whose exit revokes them."""

    def __init__(self, client: VaultClient | None, *, keep: bool = False) -> None:
        self._client = client
        self._keep = keep
        self._leases: list[_Held] = []
        self._tokens: list[_Held] = []
        self._lock = threading.Lock()  # reads run in parallel and add leases as they come
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # One request timeout: the most a renewal or all the revocations together may take.
        self._budget = min(client.retry.request_timeout, client.retry.total_seconds) if client else 0.0

    def __enter__(self) -> LeaseKeeper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_token(self, token: VaultToken, token_var: str) -> None:
        """A token radar logged in for, with the ID token variable it came from."""
        self._add(self._tokens, _Held(f"the Vault token from the login with {token_var}", token, None,
                                      token.ttl_seconds, *self._schedule(token.ttl_seconds, token.renewable)))

    def add_lease(self, grant: LeaseGrant, token: VaultToken, names: Sequence[str]) -> None:
        """A secret's lease, read with `token`, that hands the variables `names` their values."""
        what = f"the lease of secret{'s' if len(names) > 1 else ''} {', '.join(names)}"
        self._add(self._leases, _Held(what, token, grant.lease_id, grant.duration,
                                      *self._schedule(grant.duration, grant.renewable)))

    def start(self) -> None:
        """Renew in the background until `close`; returns at once."""
        if self._client is None or not any(h.next_at is not None for h in self._leases + self._tokens):
            return
        self._thread = threading.Thread(target=self._renew_until_stopped, name="radar-lease-renewal", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop renewing; revoke every lease and token unless told to keep them."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        deadline = time.monotonic() + self._budget  # for the renewal in flight and every revocation
        try:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(max(0.0, deadline - time.monotonic()))
                self._thread = None
            with self._lock:
                leases, tokens, self._leases, self._tokens = self._leases, self._tokens, [], []
            if self._client is None or not (leases or tokens):
                return
            if self._keep:
                log.info("--keep-leases: leaving %d lease(s) and %d Vault token(s) to expire", len(leases), len(tokens))
                return
            self._revoke(self._client, leases, tokens, deadline)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    # --- renewal ---------------------------------------------------------------------------

    @staticmethod
    def _schedule(duration: int, renewable: bool) -> tuple[float, float | None]:
        now = time.monotonic()
        return now + duration, (now + duration * RENEW_AT if renewable and duration > 0 else None)

    def _add(self, into: list[_Held], item: _Held) -> None:
        with self._lock:
            into.append(item)

    def _renew_until_stopped(self) -> None:
        # Signals are for the main thread, which turns them into a clean stop.
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        while not self._stop.is_set():
            with self._lock:  # tokens first: a lease outlives its token by nothing
                waiting = [h for h in self._tokens + self._leases if h.next_at is not None]
            if not waiting:
                return
            due = min(h.next_at for h in waiting if h.next_at is not None)
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            for item in waiting:
                if self._stop.is_set():
                    return
                if item.next_at is not None and item.next_at <= time.monotonic():
                    self._renew(item)

    def _renew(self, item: _Held) -> None:
        assert self._client is not None
        deadline = time.monotonic() + self._budget
        try:
            if item.lease_id is None:
                granted = self._client.renew_self(item.token, item.increment, deadline=deadline)
            else:
                granted = self._client.renew_lease(item.token, item.lease_id, item.increment, deadline=deadline).duration
        except RadarError as exc:
            now = time.monotonic()
            left = item.expires_at - now
            if PAST_MAX_TTL in str(exc):
                item.next_at = None
                self._warn_final(item, left)
                return
            item.next_at = now + left / 2 if left / 2 >= MIN_RETRY_SECONDS else None
            if not item.warned:
                item.warned = True
                log.warning("cannot renew %s (%s); the command keeps running, it ends at %s",
                            item.what, exc, _clock(left))
            return
        now = time.monotonic()
        item.expires_at = now + granted
        log.info("renewed %s for %ss", item.what, granted)
        if granted < item.increment:  # Vault's max TTL: asking again gains nothing
            item.next_at = None
            self._warn_final(item, granted)
        else:
            item.next_at = now + granted * RENEW_AT

    @staticmethod
    def _warn_final(item: _Held, left: float) -> None:
        log.warning("%s cannot be extended further (its max TTL); it expires at %s", _capital(item.what), _clock(left))

    # --- revocation ------------------------------------------------------------------------

    @staticmethod
    def _revoke(client: VaultClient, leases: list[_Held], tokens: list[_Held], deadline: float) -> None:
        left_over: dict[int, list[_Held]] = {}  # by id(token): leases only revoke-self can still end
        for lease in leases:
            assert lease.lease_id is not None
            try:
                client.revoke_lease(lease.token, lease.lease_id, deadline=deadline)
                log.info("revoked %s", lease.what)
            except RadarError as exc:
                log.info("cannot revoke %s (%s); revoking the token that holds it", lease.what, exc)
                left_over.setdefault(id(lease.token), []).append(lease)
        for token in tokens:
            try:
                client.revoke_self(token.token, deadline=deadline)
                log.info("revoked %s", token.what)
            except RadarError as exc:
                stranded = left_over.get(id(token.token), [])
                also = "".join(f", nor {h.what}" for h in stranded)
                log.warning("cannot revoke %s%s (%s); %s valid until %s", token.what, also, exc,
                            *(("they stay", "they expire") if stranded else ("it stays", "it expires")))


def _clock(seconds_from_now: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + seconds_from_now))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
