"""HTTP(S) to one Vault server with the standard library, for a fast `radar exec` start-up.

Why not `requests`: importing it costs about 100 ms on the machines we measure, twenty times
a login plus a read on loopback (benchmarks/RESULTS.md); `http.client` and `ssl` cost a
fraction of that, and `radar exec` sits in front of every job. No HTTP library would spare us
the deadline sockets below either: urllib3's and requests' timeouts apply to each socket call,
so a server that sends a byte now and then keeps them waiting for ever.

What it does, and nothing more:
- one keep-alive connection per thread (reads run in parallel), reopened once if the server
  closed an idle connection;
- TLS with `ssl.create_default_context`: the CA file given (`VAULT_CACERT`, which then
  replaces the system store, as in Vault's own client) or the system store (OpenSSL's, which
  honours SSL_CERT_FILE/SSL_CERT_DIR like GitLab Runner's Go client). REQUESTS_CA_BUNDLE plays
  no part. A client certificate and key, when given (cert auth), go on every connection;
- proxies from `https_proxy`/`http_proxy`/`all_proxy` and `no_proxy` (HTTPS through a CONNECT
  tunnel, HTTP in absolute form), looked up only when such a variable is set;
- a deadline for each request (a `time.monotonic()` instant) that covers connecting, the TLS
  handshake, the proxy's CONNECT, sending and every byte of the answer: before each blocking
  socket call the timeout is set to the time left, so a server that trickles its answer cannot
  stretch it. Resolving the host name is left to the system resolver and its own timeout;
- answers of at most MAX_ANSWER_BYTES, refused unread beyond that (AnswerTooLarge), and JSON
  nested at most MAX_JSON_DEPTH deep (AnswerTooDeep), so a hostile or broken server can cost
  neither unbounded memory nor a RecursionError;
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
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from radar import json_input

MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)
FOLLOWED_REDIRECTS = (307, 308)
# A KV secret is at most 1 MiB in Vault's default integrated storage (raft's max_entry_size)
# and 512 KiB in Consul; Go's JSON encoder may spell a byte as six (`\u003c`). 8 MiB holds any
# of them with room to spare, and stops a broken or hostile server from filling memory.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# Vault's answers nest a few levels (`data.data.field`); a field holding JSON adds its own.
# 128 is serde_json's default recursion limit: far beyond real secrets, far below Python's
# recursion limit, so neither parsing nor re-serialising a value can overflow the stack.
MAX_JSON_DEPTH = 128
_PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = field(repr=False)
    content_type: str = ""

    def json(self) -> Any:
        """The decoded JSON body; ValueError when it is not JSON, AnswerTooDeep when its
        arrays and objects nest more than MAX_JSON_DEPTH deep."""
        if not self.body:
            return {}
        try:
            value = json_input.loads(self.body)
        except json_input.JSONNestingError:  # nested far deeper than MAX_JSON_DEPTH: the parser gave up
            raise AnswerTooDeep() from None
        if json_input.nested_deeper_than(value, MAX_JSON_DEPTH):
            raise AnswerTooDeep()
        return value


@dataclass
class _Link:
    """A connection, and how requests go through it when a proxy is in the way."""

    conn: http.client.HTTPConnection
    absolute_form: bool = False
    proxy_headers: dict[str, str] = field(default_factory=dict)


class NetworkError(Exception):
    """The server could not be reached, dropped the connection or ran out of time (worth
    retrying). `connected`: whether the connection (and TLS handshake) was made."""

    def __init__(self, reason: str, *, connected: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.connected = connected


class TLSError(Exception):
    """The TLS handshake failed: `reason` is OpenSSL's verify message or error text."""

    def __init__(self, reason: str, *, verify_failed: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.verify_failed = verify_failed


class CAFileError(Exception):
    """The CA file cannot be loaded."""


class ClientCertError(Exception):
    """The client certificate or its key cannot be loaded (`reason`: OpenSSL's, never the key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


class AnswerTooLarge(Exception):
    """The answer's body is longer than MAX_ANSWER_BYTES."""


class AnswerTooDeep(Exception):
    """The answer's JSON nests deeper than MAX_JSON_DEPTH."""


class Transport:
    """Requests to `base_url` (scheme://host:port); safe to use from several threads."""

    def __init__(self, base_url: str, cafile: str | None = None,
                 client_cert: tuple[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = _port(parts)
        self._prefix = parts.path.rstrip("/")
        self._cafile = cafile
        self._client_cert = client_cert
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
                deadline: float) -> Response:
        """Send one request to `/{path}` under the base URL, following the redirects Vault
        uses; the answer, redirects included, must be complete by `deadline`."""
        url = f"{self.origin}{self._prefix}/{path}"
        _deadline.at = deadline
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response, location = self._send(method, url, headers, body)
                if response.status not in REDIRECTS:
                    return response
                url = self._redirect_target(response.status, url, location)
        finally:
            _deadline.at = None
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

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[Response, str | None]:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            link, reused = self._connection()
            conn = link.conn
            connected = False
            try:
                if conn.sock is None:
                    conn.connect()  # here, not inside request(), to tell connecting from waiting
                connected = True
                # Plain HTTP through a proxy asks the proxy for the absolute URL.
                conn.request(method, url if link.absolute_form else target, body=body,
                             headers={**headers, **link.proxy_headers})
                raw = conn.getresponse()
                response = Response(raw.status, _read_body(raw), raw.getheader("Content-Type", ""))
                location = raw.getheader("Location")
                if raw.will_close:
                    self._discard(link)
                return response, location
            except AnswerTooLarge:
                self._discard(link)  # the rest of the answer is still on the connection
                raise
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
                raise NetworkError(_describe(exc, connected), connected=connected) from None
            except (OSError, http.client.HTTPException) as exc:
                self._discard(link)
                raise NetworkError(_describe(exc, connected), connected=connected) from None
        raise AssertionError("unreachable")

    def _connection(self) -> tuple[_Link, bool]:
        link = getattr(self._local, "link", None)
        if link is not None:
            return link, True
        link = self._new_link()
        # http.client's hook for opening the TCP connection: ours keeps the request's deadline.
        link.conn._create_connection = _open_socket  # type: ignore[attr-defined]
        with self._lock:
            self._open.append(link.conn)
        self._local.link = link
        return link, False

    def _new_link(self) -> _Link:
        """A connection to the server, through the proxy the environment names for it, if any."""
        scheme, host, port = self._scheme, self._host, self._port
        proxy = _proxy_for(scheme, host)
        if scheme == "https":
            context = self._tls_context()
            if proxy is None:
                return _Link(http.client.HTTPSConnection(host, port, context=context))
            conn = http.client.HTTPSConnection(proxy.hostname or "", proxy.port or 8080, context=context)
            conn.set_tunnel(host, port, headers=_proxy_headers(proxy))
            return _Link(conn)
        if proxy is None:
            return _Link(http.client.HTTPConnection(host, port))
        conn = http.client.HTTPConnection(proxy.hostname or "", proxy.port or 8080)
        return _Link(conn, absolute_form=True, proxy_headers=_proxy_headers(proxy))

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            try:
                context = ssl.create_default_context(cafile=self._cafile)
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
                raise CAFileError(str(reason)) from None
            if self._client_cert is not None:
                certfile, keyfile = self._client_cert
                try:
                    # An encrypted key would make OpenSSL prompt on the terminal: refuse it instead.
                    context.load_cert_chain(certfile, keyfile, password=_no_password)
                except (ssl.SSLError, OSError, ValueError) as exc:
                    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
                    raise ClientCertError(str(reason)) from None
            context.sslsocket_class = _DeadlineSSLSocket
            self._context = context
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


def _no_password() -> bytes:
    raise ValueError("the private key is encrypted")


# The deadline of the request this thread is making (`at`, a time.monotonic() instant, or None).
# Each thread has its own connection and makes one request at a time, so the sockets below can
# look it up here instead of every layer of http.client and ssl passing it down.
_deadline = threading.local()


def _arm(sock: socket.socket) -> None:
    """Give the next blocking call on `sock` only the time left before the deadline."""
    at = getattr(_deadline, "at", None)
    if at is None:
        return
    left = at - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    sock.settimeout(left)


class _DeadlineSocket(socket.socket):
    """A TCP socket that keeps the request's deadline on every call, not a timeout per call."""

    def connect(self, address: Any) -> None:
        _arm(self)
        super().connect(address)

    def send(self, data: Any, flags: int = 0) -> int:
        _arm(self)
        return super().send(data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        _arm(self)
        super().sendall(data, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        _arm(self)
        return super().recv(bufsize, flags)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        _arm(self)
        return super().recv_into(buffer, nbytes, flags)


class _DeadlineSSLSocket(ssl.SSLSocket):
    """The TLS side of _DeadlineSocket (`recv`, `recv_into` and `sendall` go through these)."""

    def do_handshake(self, block: bool = False) -> None:
        _arm(self)
        super().do_handshake(block)

    def read(self, len: int = 1024, buffer: Any = None) -> Any:  # noqa: A002 (ssl's own names)
        _arm(self)
        return super().read(len, buffer)

    def send(self, data: Any, flags: int = 0) -> int:
        _arm(self)
        return super().send(data, flags)


def _open_socket(address: tuple[str, int], timeout: object = None, source_address: object = None) -> socket.socket:
    """socket.create_connection's job with a _DeadlineSocket (the timeout is the deadline's)."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = _DeadlineSocket(family, kind, proto)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address for {host}")


def _read_body(raw: http.client.HTTPResponse) -> bytes:
    """The whole body, or AnswerTooLarge without reading more than MAX_ANSWER_BYTES + 1."""
    if raw.length is not None and raw.length > MAX_ANSWER_BYTES:
        raise AnswerTooLarge()
    body = raw.read(MAX_ANSWER_BYTES + 1)
    if len(body) > MAX_ANSWER_BYTES:
        raise AnswerTooLarge()
    return body


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


def _describe(exc: BaseException, connected: bool) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out waiting for the answer" if connected else "timed out connecting"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError)):
        return "connection closed by the server"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__
