"""Shared pytest fixtures."""

# OpenBao dev servers for the `radar exec` tests (bao_server, bao_tls_server, id_token_key).
from vault_fixtures import bao_server, bao_tls_server, id_token_key  # noqa: F401
# A ScriptedServer starter that closes every server it started (serve).
from vault_fakes import serve  # noqa: F401
