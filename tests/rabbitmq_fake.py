"""A small fake of RabbitMQ's management HTTP API: the part OpenBao's `rabbitmq` secrets engine
uses, plus `GET /api/whoami` so that a job can prove its generated credentials work.

Endpoints as RabbitMQ documents them (management plugin HTTP API):
- `PUT /api/users/NAME` with `{"password": ..., "tags": ...}`: create the user (201);
- `PUT /api/permissions/VHOST/NAME`: grant permissions (201);
- `DELETE /api/users/NAME`: delete the user (204; 404 when there is none);
- `GET /api/whoami` with HTTP Basic credentials: 200 `{"name": ...}` for a live user whose
  password matches, 401 otherwise.

Listens on 127.0.0.1 only; `users` holds the live users, `deleted` the names removed (the
passwords never leave the fake).
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class RabbitMQ:
    def __init__(self) -> None:
        self.users: dict[str, str] = {}
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.issued: list[str] = []  # every password ever set, for leak checks
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _user(self) -> str | None:
                parts = self.path.split("/")
                return unquote(parts[3]) if len(parts) == 4 and parts[1:3] == ["api", "users"] else None

            def do_PUT(self) -> None:  # noqa: N802 (http.server's names)
                body = self._body()
                name = self._user()
                if name is not None:
                    with fake.lock:
                        fake.users[name] = str(body.get("password", ""))
                        fake.created.append(name)
                        fake.issued.append(fake.users[name])
                    return self._answer(201)
                if self.path.startswith("/api/permissions/"):
                    return self._answer(201)
                self._answer(404, {"error": "Object Not Found", "reason": "Not Found"})

            def do_DELETE(self) -> None:  # noqa: N802
                name = self._user()
                with fake.lock:
                    if name is None or name not in fake.users:
                        return self._answer(404, {"error": "Object Not Found", "reason": "Not Found"})
                    del fake.users[name]
                    fake.deleted.append(name)
                self._answer(204)

            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/api/whoami":
                    return self._answer(404, {"error": "Object Not Found", "reason": "Not Found"})
                scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
                name, _, password = base64.b64decode(encoded or "").decode().partition(":") if scheme == "Basic" else ("", "", "")
                with fake.lock:
                    valid = name in fake.users and fake.users[name] == password
                if valid:
                    return self._answer(200, {"name": name, "tags": []})
                self._answer(401, {"error": "not_authorized", "reason": "Login failed"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def live(self) -> set[str]:
        with self.lock:
            return set(self.users)

    def credentials(self) -> list[str]:
        """Every user name and password the engine ever created (for `assert_absent`)."""
        with self.lock:
            return [*self.created, *self.issued]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
