"""Reference sections of the README, generated from the command specs and the settings model.

`python -m paperboy.reference --write` refreshes README.md between the markers; a test fails when stale.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

from pydantic import BaseModel

from bot.config import ALIASES, Settings
from bot.features import command_specs

README = Path(__file__).resolve().parents[1] / "README.md"


def command_reference() -> str:
    lines = ["| command | what it does | who |", "|---|---|---|"]
    for spec in command_specs():
        who = spec.audience.value
        usage = spec.usage.replace("|", "\\|")
        lines.append(f"| `/papers {usage}` | {spec.summary} | {who} |")
    return "\n".join(lines)


def _rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += _rows(annotation, f"{env}__")
            continue
        if field.default_factory is not None:
            default = "(see below)" if name == "data_dir" else "empty"
        elif field.default is None:
            default = "unset"
        else:
            default = str(getattr(field.default, "value", field.default))
        rows.append((env, default))
    return rows


def settings_reference() -> str:
    aliases: dict[str, str] = {}
    for alias, (section, key) in ALIASES.items():
        aliases[f"PAPERBOY_{section.upper()}__{key.upper()}"] = alias
    aliases["PAPERBOY_DATABASE_URL"] = "DATABASE_URL"
    lines = ["| setting | also read from | default |", "|---|---|---|"]
    for env, default in _rows(Settings, "PAPERBOY_"):
        if env == "PAPERBOY_DATA_DIR":
            default = "`./data`"
        elif env == "PAPERBOY_DATABASE_URL":
            default = "SQLite file `paperboy.db` in the data dir"
        else:
            default = f"`{default}`" if default not in ("unset", "empty") else default
        lines.append(f"| `{env}` | {('`' + aliases[env] + '`') if env in aliases else ''} | {default} |")
    return "\n".join(lines)


def _fill(m: re.Match[str], *, body: str) -> str:
    return m.group(1) + "\n" + body + "\n" + m.group(2)


SECTIONS = {"commands": command_reference, "settings": settings_reference}


def render(readme: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(readme):
            raise ValueError(f"README.md lacks the {name} markers")
        body = make()
        # A replacement function, so backslashes in the body are never read as group references.
        readme = pattern.sub(functools.partial(_fill, body=body), readme)
    return readme


def main() -> int:
    current = README.read_text()
    fresh = render(current)
    if "--write" in sys.argv:
        README.write_text(fresh)
        return 0
    if fresh != current:
        print("README.md reference sections are stale: run `python -m paperboy.reference --write`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
