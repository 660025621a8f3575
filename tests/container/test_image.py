"""The container image, built and run for real with podman (CI builds it and sets PAPERBOY_TEST_IMAGE).

- `paperboy demo` inside the container exits 0 and shows real papers;
- `paperboy run` inside the container (host network) against a real PostgreSQL and the fake Slack in
  HTTP mode answers a signed `/papers today`; SIGTERM stops it within 10 s with the database intact.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from tests.fakes.slack import SECRET, FakeSlack, form, signed_headers, slash_body, wait_for

IMAGE = os.environ.get("PAPERBOY_TEST_IMAGE")
PG_URL = os.environ.get("PAPERBOY_TEST_POSTGRES_URL")

if not IMAGE:
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("CI=true but PAPERBOY_TEST_IMAGE is not set: .ci/run builds the image and sets it")
    pytest.skip("PAPERBOY_TEST_IMAGE not set: container tests run in CI after `podman build`", allow_module_level=True)


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    assert shutil.which("podman"), "podman is not installed"
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_in_the_container_shows_real_papers() -> None:
    assert IMAGE
    done = podman("run", "--rm", "--network", "host", IMAGE, "paperboy", "demo")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Paperboy digest" in done.stdout
    assert "huggingface.co/papers/25" in done.stdout  # real sample papers from Nov 2025


def test_the_runtime_image_has_no_installers_and_no_test_tools() -> None:
    assert IMAGE
    probe = "import importlib.util as u; print(*(m for m in {mods!r} if u.find_spec(m)))"
    mods = ("pip", "setuptools", "pytest", "hypothesis", "mypy", "ruff", "uv", "anyascii", "paperboy")
    done = podman("run", "--rm", IMAGE, "python3", "-c", probe.format(mods=mods))
    assert done.returncode == 0, done.stderr[-2000:]
    # Only the runtime lock is installed: Paperboy and its dependencies, nothing that installs or tests.
    assert done.stdout.split() == ["anyascii", "paperboy"]


def test_the_image_says_what_it_is() -> None:
    assert IMAGE
    done = podman("image", "inspect", IMAGE, "--format", "{{json .Labels}}")
    assert done.returncode == 0, done.stderr
    labels = json.loads(done.stdout)
    version = podman("run", "--rm", IMAGE, "paperboy", "--version").stdout.split()[-1]
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.source"].startswith("https://")


@pytest.fixture
async def fresh_database() -> AsyncIterator[str]:
    if not PG_URL:
        pytest.skip("PAPERBOY_TEST_POSTGRES_URL not set: the image run test needs PostgreSQL")
    name = f"paperboy_image_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_run_in_the_container_answers_slack_and_stops_on_sigterm(
    fresh_database: str, tmp_path: pathlib.Path
) -> None:
    assert IMAGE
    fake = await FakeSlack().start()
    port = free_port()
    name = f"paperboy-test-{secrets.token_hex(4)}"
    env = {
        "DATABASE_URL": fresh_database,
        "SLACK_BOT_TOKEN": "xoxb-t1-token",
        "PAPERBOY_SLACK__API_URL": fake.api_url,
        "PAPERBOY_HTTP__HOST": "127.0.0.1",
        "PAPERBOY_HTTP__PORT": str(port),
        "PAPERBOY_OFFLINE": "true",
    }
    # The signing secret comes as a mounted secret file (/run/secrets, as compose and Kubernetes mount them),
    # not an environment variable: without it Slack HTTP mode refuses to start.
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "slack_signing_secret").write_text(SECRET + "\n")
    secrets_dir.chmod(0o755)
    (secrets_dir / "slack_signing_secret").chmod(0o644)
    args = ["run", "-d", "--name", name, "--network", "host", "-v", f"{secrets_dir}:/run/secrets:ro,Z"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    started = podman(*args, IMAGE)
    assert started.returncode == 0, started.stderr
    try:
        async with aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with session.get(base + "healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, podman("logs", name).stderr[-3000:]
                await asyncio.sleep(0.5)
            for text in ("today 3", "subscribe agent -survey"):
                body = form(slash_body(fake, text))
                headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(SECRET, body)}
                async with session.post(base + "slack/events", data=body.encode(), headers=headers) as resp:
                    assert resp.status == 200
                    fake.take_ack(body, await resp.read())
            await wait_for(lambda: len(fake.responses) == 2, within=30, what="replies from the container")
        today = str(fake.responses[0][1])
        assert "huggingface.co/papers/" in today
        stop_started = time.monotonic()
        stopped = await asyncio.to_thread(podman, "stop", "--time", "10", name)
        stop_seconds = time.monotonic() - stop_started
        assert stopped.returncode == 0, stopped.stderr
        state = podman("inspect", name, "--format", "{{.State.ExitCode}}")
        assert state.stdout.strip() == "0", podman("logs", name).stderr[-3000:]
        assert stop_seconds < 10, f"SIGTERM took {stop_seconds:.1f} s"
        print(f"container stopped {stop_seconds:.2f} s after SIGTERM")
    finally:
        podman("rm", "-f", name)
        await fake.stop()
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM papers") > 100
        assert await conn.fetchval("SELECT count(*) FROM subscriptions") == 1
    finally:
        await conn.close()
