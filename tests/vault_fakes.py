"""Vault servers that misbehave, for the tests of radar's HTTP layer: real sockets on 127.0.0.1.

OpenBao behaves; these do not, on purpose. A `ScriptedServer` accepts connections (plain TCP,
or TLS with a certificate made here by `tls_certificate`), reads each HTTP request and hands
it to a behaviour: answer, redirect, forward to a real OpenBao, stall, trickle one byte at a
time, or stream an endless body. It records the requests and connections that arrived, so a
test can tell whether radar reached a server it must not. Every stall ends when the server
is closed.
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from radar_cli import WAIT


# --- certificates ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Certificate:
    ca_file: Path  # the CA that signed the server's certificate: what VAULT_CACERT points at
    cert_file: Path
    key_file: Path


def tls_certificate(directory: Path) -> Certificate:
    """A fresh CA, and a server certificate it signed for 127.0.0.1 and localhost."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "radar test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificate(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    paths.key_file.chmod(0o600)
    return paths


# --- the server --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    method: str
    target: str  # the request target as sent: /v1/auth/jwt/login
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)


# A behaviour answers one request on `conn`; it returns False to close the connection.
Behaviour = Callable[["ScriptedServer", socket.socket, Request], bool]


class ScriptedServer:
    """A listener on 127.0.0.1 that serves every request with `behaviour`.

    `tls`: serve HTTPS with that certificate; `handshake=False` accepts TCP connections and
    never even starts TLS (a server that hangs before the handshake).
    """

    def __init__(self, behaviour: Behaviour, *, tls: Certificate | None = None, handshake: bool = True) -> None:
        self.behaviour = behaviour
        self.stopped = threading.Event()
        self.requests: list[Request] = []
        self.connections = 0
        self.bytes_sent = 0  # body bytes a streaming behaviour got out before the client left
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        if tls is not None and handshake:
            self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._context.load_cert_chain(tls.cert_file, tls.key_file)
        self.scheme = "https" if tls is not None else "http"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.stopped.set()
        self._accepting.join(WAIT)
        self._listener.close()
        for thread in self._threads:
            thread.join(WAIT)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(WAIT)
            if self._context is not None:
                conn = self._context.wrap_socket(conn, server_side=True)
            elif self.scheme == "https":  # handshake=False: never answer the ClientHello
                self.stopped.wait(WAIT)
                return
            reader = conn.makefile("rb")
            while not self.stopped.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                if not self.behaviour(self, conn, request):
                    return
        except (OSError, ssl.SSLError):
            return  # the client went away, gave up on us (what stalls wait for) or refused our certificate
        finally:
            conn.close()


@pytest.fixture
def serve():
    """Start ScriptedServers for the test; all are closed afterwards."""
    started: list[ScriptedServer] = []

    def start(behaviour: Behaviour, **options) -> ScriptedServer:
        server = ScriptedServer(behaviour, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def _read_request(reader) -> Request | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline(65537)
        if not line:
            return None
        head += line
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body)


# --- behaviours --------------------------------------------------------------------------------

def response(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> bytes:
    reason = http.client.responses.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answer(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> Behaviour:
    """Every request gets this answer."""
    def behave(server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        conn.sendall(response(status, body, headers))
        return True
    return behave


def never_answer(server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
    """Read the request, then say nothing until the client leaves or the test ends."""
    server.stopped.wait(WAIT)
    return False


def trickle(data: bytes, every: float = 0.5, head: bytes = b"") -> Behaviour:
    """Send `head` at once, then `data` one byte every `every` seconds (never done before the
    client gives up)."""
    def behave(server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        conn.sendall(head)
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            if server.stopped.wait(every):
                break
        return False
    return behave


def stream(head: bytes, total: int, chunk: bytes = b"a" * 65536) -> Behaviour:
    """Send `head`, then `total` bytes of body as fast as the client takes them, counting
    in `server.bytes_sent` how many it took before it closed the connection."""
    def behave(server: ScriptedServer, conn: socket.socket, request: Request) -> bool:
        conn.sendall(head)
        sent = 0
        try:
            while sent < total and not server.stopped.is_set():
                part = chunk[: total - sent]
                conn.sendall(part)
                sent += len(part)
        finally:
            server.bytes_sent += sent
        return False
    return behave


def forward_to(upstream: str) -> Callable[[Request, str], bytes]:
    """A function that sends a request on to `target` on a real server (a plain-HTTP OpenBao)
    and returns its answer, as bytes to relay."""
    host, port = upstream.removeprefix("http://").rsplit(":", 1)

    def relay(request: Request, target: str) -> bytes:
        conn = http.client.HTTPConnection(host, int(port), timeout=WAIT)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in ("host", "connection")}
            conn.request(request.method, target, body=request.body or None, headers=headers)
            upstream_answer = conn.getresponse()
            return response(upstream_answer.status, upstream_answer.read())
        finally:
            conn.close()

    return relay
