"""HTTP(S) to one Vault server with the standard library, for a fast `radar exec` start-up.

Why not `requests`: importing it costs about 100 ms on the machines we measure, twenty times
a login plus a read on loopback (benchmarks/RESULTS.md); `http.client` and `ssl` cost a
fraction of that, and `radar exec` sits in front of every job.

What it does, and nothing more:
- one keep-alive connection per thread (reads run in parallel), reopened once if the server
  closed an idle connection;
- TLS with `ssl.create_default_context`: the CA file given (`VAULT_CACERT`, which then
  replaces the system store, as in Vault's own client) or the system store (OpenSSL's, which
  honours SSL_CERT_FILE/SSL_CERT_DIR like GitLab Runner's Go client). REQUESTS_CA_BUNDLE plays
  no part;
- proxies from `https_proxy`/`http_proxy`/`all_proxy` and `no_proxy` (HTTPS through a CONNECT
  tunnel, HTTP in absolute form), looked up only when such a variable is set;
- redirects as Vault uses them, and no further. A Vault or OpenBao standby that does not
  forward a request itself (forwarding is on by default; it is off with
  `X-Vault-No-Request-Forwarding`, or when forwarding fails) answers 307 with the active node's
  `api_addr` and the same path and query; behind a load balancer that `api_addr` is the load
  balancer, the same origin. radar follows 307 and 308 (which keep the method and body) to
  the same origin as VAULT_SERVER_URL (scheme, host and port), at most MAX_REDIRECTS times.
  Anything else is refused before a byte is sent there (RedirectRefused): https to http would
  send the JWT and the Vault token in clear, another host or port would hand them to a server
  the user never named, and 301/302/303 are never sent by Vault (clients turn them into a GET,
  which would drop the login's body).
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from radar import json_input

MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)
FOLLOWED_REDIRECTS = (307, 308)
_PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = field(repr=False)
    content_type: str = ""

    def json(self) -> Any:
        """The decoded JSON body; ValueError when it is not JSON."""
        return json_input.loads(self.body) if self.body else {}


@dataclass
class _Link:
    """A connection, and how requests go through it when a proxy is in the way."""

    conn: http.client.HTTPConnection
    absolute_form: bool = False
    proxy_headers: dict[str, str] = field(default_factory=dict)


class NetworkError(Exception):
    """The server could not be reached or dropped the connection (worth retrying)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TLSError(Exception):
    """The TLS handshake failed: `reason` is OpenSSL's verify message or error text."""

    def __init__(self, reason: str, *, verify_failed: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.verify_failed = verify_failed


class CAFileError(Exception):
    """The CA file cannot be loaded."""


class RedirectRefused(Exception):
    """A redirect radar will not follow. `kind`: "downgrade" (https to http), "origin" (another
    scheme, host or port), "status" (301, 302 or 303), "loop" (more than MAX_REDIRECTS) or
    "location" (missing or invalid). `target`: the origin it pointed at, never its path or
    query (they may carry anything), fit for a one-line message."""

    def __init__(self, kind: str, status: int, target: str) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status = status
        self.target = target


class Transport:
    """Requests to `base_url` (scheme://host:port); safe to use from several threads."""

    def __init__(self, base_url: str, cafile: str | None = None) -> None:
        parts = urlsplit(base_url)
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = _port(parts)
        self._prefix = parts.path.rstrip("/")
        self._cafile = cafile
        self._context: ssl.SSLContext | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[http.client.HTTPConnection] = []

    @property
    def origin(self) -> str:
        return f"{self._scheme}://{self._netloc(self._host, self._port)}"

    def close(self) -> None:
        with self._lock:
            for conn in self._open:
                conn.close()
            self._open.clear()

    def request(self, method: str, path: str, *, headers: dict[str, str], body: bytes | None,
                timeout: float) -> Response:
        """Send one request to `/{path}` under the base URL, following the redirects Vault uses."""
        url = f"{self.origin}{self._prefix}/{path}"
        for _ in range(MAX_REDIRECTS + 1):
            response, location = self._send(method, url, headers, body, timeout)
            if response.status not in REDIRECTS:
                return response
            url = self._redirect_target(response.status, url, location)
        raise RedirectRefused("loop", response.status, self.origin)

    def _redirect_target(self, status: int, url: str, location: str | None) -> str:
        """The URL to follow a redirect to, or RedirectRefused (see the module's docstring)."""
        if not location:
            raise RedirectRefused("location", status, self.origin)
        try:
            target = urlsplit(urljoin(url, location.strip()))
            host, port = target.hostname or "", _port(target)
        except ValueError:  # a port that is not a number, or out of range
            raise RedirectRefused("location", status, self.origin) from None
        origin = _printable(f"{target.scheme}://{self._netloc(host, port)}")
        if (target.scheme, host, port) != (self._scheme, self._host, self._port):
            downgrade = self._scheme == "https" and target.scheme != "https"
            raise RedirectRefused("downgrade" if downgrade else "origin", status, origin)
        if status not in FOLLOWED_REDIRECTS:
            raise RedirectRefused("status", status, origin)
        return target.geturl()

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
              timeout: float) -> tuple[Response, str | None]:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            link, reused = self._connection(timeout)
            conn = link.conn
            try:
                # Plain HTTP through a proxy asks the proxy for the absolute URL.
                conn.request(method, url if link.absolute_form else target, body=body,
                             headers={**headers, **link.proxy_headers})
                raw = conn.getresponse()
                response = Response(raw.status, raw.read(), raw.getheader("Content-Type", ""))
                location = raw.getheader("Location")
                if raw.will_close:
                    self._discard(link)
                return response, location
            except ssl.SSLCertVerificationError as exc:
                self._discard(link)
                raise TLSError(exc.verify_message or str(exc), verify_failed=True) from None
            except ssl.SSLError as exc:
                self._discard(link)
                raise TLSError(exc.reason or str(exc), verify_failed=False) from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._discard(link)
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection: reconnect once
                raise NetworkError(_describe(exc)) from None
            except (OSError, http.client.HTTPException) as exc:
                self._discard(link)
                raise NetworkError(_describe(exc)) from None
        raise AssertionError("unreachable")

    def _connection(self, timeout: float) -> tuple[_Link, bool]:
        link = getattr(self._local, "link", None)
        if link is not None:
            link.conn.timeout = timeout
            if link.conn.sock is not None:
                link.conn.sock.settimeout(timeout)
            return link, True
        link = self._new_link(self._scheme, self._host, self._port, timeout)
        with self._lock:
            self._open.append(link.conn)
        self._local.link = link
        return link, False

    def _new_link(self, scheme: str, host: str, port: int, timeout: float) -> _Link:
        proxy = _proxy_for(scheme, host)
        if scheme == "https":
            context = self._tls_context()
            if proxy is None:
                return _Link(http.client.HTTPSConnection(host, port, timeout=timeout, context=context))
            conn = http.client.HTTPSConnection(proxy.hostname or "", proxy.port or 8080, timeout=timeout, context=context)
            conn.set_tunnel(host, port, headers=_proxy_headers(proxy))
            return _Link(conn)
        if proxy is None:
            return _Link(http.client.HTTPConnection(host, port, timeout=timeout))
        conn = http.client.HTTPConnection(proxy.hostname or "", proxy.port or 8080, timeout=timeout)
        return _Link(conn, absolute_form=True, proxy_headers=_proxy_headers(proxy))

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            try:
                self._context = ssl.create_default_context(cafile=self._cafile)
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
                raise CAFileError(str(reason)) from None
        return self._context

    def _discard(self, link: _Link) -> None:
        link.conn.close()
        if getattr(self._local, "link", None) is link:
            self._local.link = None
        with self._lock:
            if link.conn in self._open:
                self._open.remove(link.conn)

    @staticmethod
    def _netloc(host: str, port: int) -> str:
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _printable(text: str, limit: int = 200) -> str:
    """`text` fit for a one-line message: no control characters, bounded length."""
    text = "".join(c if c.isprintable() and c.isascii() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _port(parts: SplitResult) -> int:
    """The URL's port, or its scheme's default."""
    return parts.port or (443 if parts.scheme == "https" else 80)


def _proxy_for(scheme: str, host: str) -> SplitResult | None:
    if not any(name in os.environ for name in _PROXY_VARIABLES):
        return None
    import urllib.request  # only when a proxy is configured: it is slow to import

    if urllib.request.proxy_bypass_environment(host):
        return None
    proxies = urllib.request.getproxies_environment()
    url = proxies.get(scheme) or proxies.get("all")
    if not url:
        return None
    return urlsplit(url if "://" in url else f"http://{url}")


def _proxy_headers(proxy: SplitResult) -> dict[str, str]:
    if proxy.username is None:
        return {}
    credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(credentials).decode()}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError)):
        return "connection closed by the server"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__
