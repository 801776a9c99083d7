"""Shared pytest fixtures."""

import pytest

# OpenBao dev servers for the `radar exec` tests (bao_server, bao_tls_server, id_token_key).
from vault_fixtures import bao_server, bao_tls_server, id_token_key  # noqa: F401
# A ScriptedServer starter that closes every server it started (serve).
from vault_fakes import serve  # noqa: F401


@pytest.fixture
def pool_starts(monkeypatch) -> list[int]:
    """The worker counts of the scanner's process pools started during the test, in order (the
    pools still start and scan: this only records them)."""
    from radar.scan import scanner

    started: list[int] = []
    start_pool = scanner._start_pool
    monkeypatch.setattr(scanner, "_start_pool", lambda jobs, *a: started.append(jobs) or start_pool(jobs, *a))
    return started
