"""Test-wide guards: the network is off (only loopback is allowed), time is injected."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

# No timed assertions in tests: Hypothesis's per-example deadline (200 ms) failed property tests whose
# first example pays a one-off warm-up on a loaded machine. Speed is measured by bench/, not asserted.
settings.register_profile("paperboy", deadline=None)
settings.load_profile("paperboy")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class _Guard:
    """Records every attempt to leave loopback. The attempt fails with OSError, as an offline machine's
    would, and the test fails at teardown even when the code under test caught that error (sources
    record a failed fetch and carry on, so an unguarded network call could otherwise pass)."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def check(self, address: Any) -> None:
        if isinstance(address, tuple) and address and not _is_loopback(address[0]):
            self.attempts.append(f"connect to {address[0]!r}")
            raise OSError(f"test tried to reach the network ({address[0]!r}); tests are offline, use a loopback fake")

    def resolve(self, host: Any) -> None:
        if host is not None and not _is_loopback(host if isinstance(host, str) else host.decode()):
            self.attempts.append(f"resolve {host!r}")
            raise OSError(f"test tried to resolve {host!r}; tests are offline, use a loopback fake")


@pytest.fixture(autouse=True)
def _network_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = _Guard()

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address)
        return _real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address)
        return _real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.resolve(host)
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    if guard.attempts:
        pytest.fail(f"the test tried to reach the network: {', '.join(guard.attempts[:5])}", pytrace=False)


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test if anything was logged as an error or with a traceback, or a warning took two lines.

    For the hostile-input tests: bad input is answered, with at most a one-line warning in the log.
    """
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]
    long = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "\n" in r.getMessage()]
    assert not long, long


def pytest_configure(config: pytest.Config) -> None:
    import os

    # In CI the Postgres tests must run, never skip: refuse to start without the database URL.
    if os.environ.get("CI", "").lower() == "true" and not os.environ.get("PAPERBOY_TEST_POSTGRES_URL"):
        raise pytest.UsageError("CI=true but PAPERBOY_TEST_POSTGRES_URL is not set; .ci/run sets it")
