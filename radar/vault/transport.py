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
- redirects (307/308 from a standby node to the active one), at most 3.
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

    def close(self) -> None:
        with self._lock:
            for conn in self._open:
                conn.close()
            self._open.clear()

    def request(self, method: str, path: str, *, headers: dict[str, str], body: bytes | None,
                timeout: float) -> Response:
        """Send one request to `/{path}` under the base URL, following redirects."""
        url = f"{self._scheme}://{self._netloc(self._host, self._port)}{self._prefix}/{path}"
        for _ in range(MAX_REDIRECTS + 1):
            response, location = self._send(method, url, headers, body, timeout)
            if response.status not in REDIRECTS or not location:
                return response
            url = urljoin(url, location)
        return response

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
              timeout: float) -> tuple[Response, str | None]:
        parts = urlsplit(url)
        host, port = parts.hostname or "", _port(parts)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        ours = (parts.scheme, host, port) == (self._scheme, self._host, self._port)
        for attempt in (1, 2):
            link, reused = self._connection(parts.scheme, host, port, timeout, keep=ours)
            conn = link.conn
            try:
                # Plain HTTP through a proxy asks the proxy for the absolute URL.
                conn.request(method, url if link.absolute_form else target, body=body,
                             headers={**headers, **link.proxy_headers})
                raw = conn.getresponse()
                response = Response(raw.status, raw.read(), raw.getheader("Content-Type", ""))
                location = raw.getheader("Location")
                if raw.will_close or not ours:
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

    def _connection(self, scheme: str, host: str, port: int, timeout: float, keep: bool) -> tuple[_Link, bool]:
        link = getattr(self._local, "link", None) if keep else None
        if link is not None:
            link.conn.timeout = timeout
            if link.conn.sock is not None:
                link.conn.sock.settimeout(timeout)
            return link, True
        link = self._new_link(scheme, host, port, timeout)
        with self._lock:
            self._open.append(link.conn)
        if keep:
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
