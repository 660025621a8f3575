"""The offline guard cannot be swallowed: an attempt the code under test catches still fails the test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

GUARD = Path(__file__).resolve().parents[1] / "conftest.py"


def test_a_caught_attempt_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(GUARD.read_text())
    pytester.makepyfile(
        """
        import socket

        def test_swallows_the_error():
            try:
                socket.create_connection(("192.0.2.1", 80), timeout=1)
            except OSError:
                pass  # what a resilient source does

        def test_stays_on_loopback():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
        """
    )
    # In a process of its own: this process's guard would count the probe's attempt too.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*tried to reach the network*192.0.2.1*"])


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
