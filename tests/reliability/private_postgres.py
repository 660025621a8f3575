"""A PostgreSQL server of the test's own: `initdb` into a temporary folder, on a free port, stopped at will.

Tests that take the database away (an outage) must never touch the shared server the other tests use.
The server runs as the `postgres` user (initdb refuses root) with trust authentication on 127.0.0.1.
When the PostgreSQL binaries are missing this fails rather than skips: CI machines have them.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SEARCH = (Path("/usr/lib/postgresql"), Path("/usr/local/pgsql"))


def _bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    for root in SEARCH:
        for candidate in sorted(root.glob("*/bin"), reverse=True) if root.exists() else []:
            if (candidate / "initdb").exists():
                return candidate
    raise AssertionError("PostgreSQL's initdb was not found (Debian: apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivatePostgres:
    bin: Path
    data: Path
    port: int
    user: str | None  # run the server as this user (when the tests run as root)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.data.parent / "log"), "-w", "start"
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def stop(self) -> None:
        """Stop it now (fast: open connections are cut, as in an outage)."""
        done = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        assert done.returncode == 0, done.stdout + done.stderr

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.stop)

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # Its own folder under /tmp (pytest's are private to the test's user, and the server runs as postgres).
    root = Path(tempfile.mkdtemp(prefix="paperboy-pg-"))
    user: str | None = None
    if os.geteuid() == 0:
        user = "postgres"
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            pytest.fail("tests run as root, but there is no postgres user to run a private PostgreSQL as")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PrivatePostgres(_bin_dir(), root / "data", _free_port(), user)
    try:
        init = server._run("initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres", "--no-sync")
        assert init.returncode == 0, init.stdout + init.stderr
        server.start()
        try:
            yield server
        finally:
            server._run("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
