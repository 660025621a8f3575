"""Fixtures of the fuzz suite (tests/fuzz/stack.py)."""

from tests.fuzz.stack import clean_log

__all__ = ["clean_log"]
