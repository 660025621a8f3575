"""House habits that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RENDERERS = ("adapters/slack/render.py", "adapters/discord/render.py", "adapters/text.py")


def _matches_over_messages(path: Path) -> list[ast.Match]:
    """`match` statements whose cases name the core's message types (the renderers' dispatch)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Match):
            names = {c.pattern.cls.id for c in node.cases if isinstance(c.pattern, ast.MatchClass)}  # type: ignore[attr-defined]
            if {"TextReply", "Digest"} <= names:
                found.append(node)
    return found


def test_every_renderer_dispatch_ends_in_assert_never() -> None:
    for name in RENDERERS:
        matches = _matches_over_messages(ROOT / name)
        assert matches, f"{name} has no dispatch over the message types"
        for match in matches:
            last = match.cases[-1]
            assert isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None, name
            call = last.body[0]
            assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call), name
            assert getattr(call.value.func, "id", "") == "assert_never", name


def test_pre_commit_runs_the_same_checks_as_make() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    entries = {h["entry"].replace(".venv/bin/", "").replace(" --force-exclude", "") for h in hooks}
    makefile = (ROOT / "Makefile").read_text()
    made = set(re.findall(r"^\t\$\(BIN\)/((?:ruff|mypy)[^\n]*?)(?: \.)?$", makefile, re.M))
    assert made == {"ruff check", "ruff format --check", "mypy"}
    assert entries == made
