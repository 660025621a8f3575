"""The layers of the house (docs/architecture.md), checked on the syntax tree of every module.

- the core (`bot/`) never imports, at run time, an adapter, the storage layer, the application or a
  platform SDK (imports under `if TYPE_CHECKING:` are for type checkers only and are allowed);
- an adapter never imports the storage layer, the application, or another platform's adapter;
- the storage layer imports no more of the core than its leaf modules (value types, text normalisation, errors,
  the inbound log's retention).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDKS = ("slack_bolt", "slack_sdk", "discord")
PLATFORM_ADAPTERS = ("adapters.slack", "adapters.discord", "adapters.console", "adapters.memory")
STORAGE_MAY_IMPORT = ("bot.types", "bot.textnorm", "bot.errors", "bot.inbound")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> set[str]:
    """Modules `path` imports when it runs (absolute names; `if TYPE_CHECKING:` blocks left out)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def offenders(folder: str, forbidden: tuple[str, ...], *, allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    for path in files:
        for name in runtime_imports(path):
            if _within(name, forbidden) and not _within(name, allowed):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_the_core_imports_no_adapter_storage_application_or_sdk() -> None:
    assert offenders("bot", ("adapters", "storage", "paperboy", *SDKS)) == []


def test_adapters_import_neither_storage_nor_the_application() -> None:
    assert offenders("adapters", ("storage", "paperboy")) == []


def test_an_adapter_never_imports_another_platforms_adapter() -> None:
    found = []
    for own in PLATFORM_ADAPTERS:
        folder = own.replace(".", "/")
        paths = [Path(folder + ".py")] if (ROOT / f"{folder}.py").exists() else []
        for path in [*(ROOT / p for p in paths), *sorted((ROOT / folder).rglob("*.py"))]:
            others = tuple(p for p in PLATFORM_ADAPTERS if p != own)
            found += [f"{path.relative_to(ROOT)} imports {n}" for n in runtime_imports(path) if _within(n, others)]
    assert found == []


def test_storage_imports_only_the_cores_leaf_modules() -> None:
    assert offenders("storage", ("bot", "adapters", "paperboy", *SDKS), allowed=STORAGE_MAY_IMPORT) == []


def test_the_checker_sees_what_it_must() -> None:
    # The walker itself: a runtime import is found, a TYPE_CHECKING one is not, relative imports resolve.
    here = runtime_imports(ROOT / "adapters" / "discord" / "adapter.py")
    assert "adapters.discord.render" in here and "discord" in here
    assert "storage" not in runtime_imports(ROOT / "bot" / "digest.py")
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import storage\nelse:\n    import adapters\n"
    probe = ROOT / "tests" / "unit" / "_probe_imports.py"
    probe.write_text(source)
    try:
        assert runtime_imports(probe) >= {"adapters"} and "storage" not in runtime_imports(probe)
    finally:
        probe.unlink()


def test_importing_every_core_module_loads_no_other_layer() -> None:
    modules = sorted(module_name(p) for p in (ROOT / "bot").rglob("*.py"))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        f"{{'adapters', 'storage', 'paperboy', *{SDKS!r}}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
