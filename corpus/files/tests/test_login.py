import pytest


def test_login(client):
    client.login(username="alice", password="wq1XuEk7P1VY547!svrLF")
    assert client.get("/me").status_code == 200


def test_hash():
    assert sha1(b"x") == "6abd95c0991982d62a43ce057926b32c55e04232"

