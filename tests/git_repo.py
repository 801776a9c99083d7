"""A real git repository for tests: a fixed author, and commit dates one day apart so that
"first seen" and the ordering of history are predictable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Repo:
    """A repository in tmp_path whose commits get dates one day apart, from 2020-01-01."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.day = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Dev One")
        self.git("config", "user.email", "dev@example.com")

    def git(self, *args: str) -> str:
        date = self.date(self.day)
        env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        result = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True, env=env, check=True)
        return result.stdout.decode().strip()

    def write(self, name: str, text: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text if isinstance(text, bytes) else text.encode())

    def commit(self, message: str, **files: str | bytes) -> str:
        for name, text in files.items():
            self.write(name.replace("__", "/"), text)
        self.day += 1
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def commit_on_branch(self, branch: str, message: str, **files: str | bytes) -> str:
        """Commit on a new branch `branch` started from HEAD, then go back to main."""
        self.git("checkout", "-q", "-b", branch)
        commit = self.commit(message, **files)
        self.git("checkout", "-q", "main")
        return commit

    @staticmethod
    def date(day: int) -> str:
        return f"2020-01-{day + 1:02d}T12:00:00+00:00"
