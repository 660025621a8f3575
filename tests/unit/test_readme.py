"""The README's command and settings references are generated, so they cannot drift."""

from __future__ import annotations

from paperboy.reference import README, render


def test_readme_reference_sections_are_fresh() -> None:
    current = README.read_text()
    assert render(current) == current, "run `python -m paperboy.reference --write`"


def test_readme_quick_start_has_exactly_two_commands() -> None:
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in quick.splitlines() if line.startswith("make ")]
    assert commands == ["make demo", "make test"]
