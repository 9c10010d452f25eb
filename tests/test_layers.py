"""The layers, checked on the source: each package imports only from the packages below it.

Lowest first (docs/architecture.md draws them):

    domain      pure model: pydantic and the standard library, no environment
    tlog        transparency-log primitives (Merkle tree, signed notes, witness rule)
    store       the eventsourcing application, its recorders, personal-data keys
    runtime     settings, Temporal connection, codec and guard, metrics, dev server
    activities  the bridge to the store and to the outside world
    workflows   deterministic workflows (no I/O)
    audit       history, as-of, tamper evidence, witness publishing, reconcile, export
    worker      builds and runs a worker (worker.py)
    amity       the CLI on top of everything

Every `import` counts, at module level or inside a function (a lazy import is still a
dependency), except those under `if __name__ == "__main__":`: that block runs only when
the file is a script, as module `__main__`, which nothing imports, so it adds no edge.
Run alone with `.venv/bin/pytest tests/test_layers.py -q`.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = (
    "domain",
    "tlog",
    "store",
    "runtime",
    "activities",
    "workflows",
    "audit",
    "worker",
    "amity",
)
RANK = {name: rank for rank, name in enumerate(LAYERS)}
#: What the pure model may use besides the standard library and itself.
DOMAIN_THIRD_PARTY = ("pydantic", "eventsourcing.domain")
#: The one module that reads the process environment; everything else is handed Settings.
ENVIRONMENT_READERS = {"runtime/settings.py"}


def product_files(root: Path = ROOT) -> Iterator[tuple[str, Path]]:
    """(layer, file) of every product module."""
    for layer in LAYERS:
        single = root / f"{layer}.py"
        if single.is_file():
            yield layer, single
        for path in sorted((root / layer).rglob("*.py")):
            yield layer, path


def _is_main_guard(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every absolute import, skipping a `__main__` block."""
    skipped = {id(inner) for node in tree.body if _is_main_guard(node) for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def edges(root: Path = ROOT) -> Iterator[tuple[str, str, str]]:
    """(importing layer, imported layer, where) for every import between our packages."""
    for layer, path in product_files(root):
        tree = ast.parse(path.read_text(), str(path))
        for line, module in imported_modules(tree):
            target = module.split(".")[0]
            if target in RANK and target != layer:
                yield layer, target, f"{path.relative_to(root)}:{line} imports {module}"


def upward(root: Path = ROOT) -> list[str]:
    return sorted(
        {
            f"{where} ({src} may not import {dst})"
            for src, dst, where in edges(root)
            if RANK[dst] > RANK[src]
        }
    )


def package_cycles(root: Path = ROOT) -> list[list[str]]:
    """Cycles in the package graph (depth-first search; each reported once)."""
    graph: dict[str, set[str]] = {layer: set() for layer in LAYERS}
    for src, dst, _ in edges(root):
        graph[src].add(dst)
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in path:
                cycle = [*path[path.index(nxt) :], nxt]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            else:
                visit(nxt, [*path, nxt])

    for start in LAYERS:
        visit(start, [start])
    return cycles


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Which product module imports which (a `from package import module` names the module)."""
    files = {_module_name(root, path): path for _, path in product_files(root)}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        skipped = {
            id(inner) for node in tree.body if _is_main_guard(node) for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                subs = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [sub for sub in subs if sub in files] or [node.module]
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def module_cycles(root: Path = ROOT) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan)."""
    graph = module_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_layer_imports_from_a_layer_above_it() -> None:
    assert upward() == []


def test_no_cycle_between_packages() -> None:
    assert package_cycles() == []


def test_no_cycle_between_modules() -> None:
    """Not even inside a package: a module never needs, through any path, what needs it."""
    assert module_cycles() == []


def test_every_product_package_has_a_layer() -> None:
    """A new top-level package must be placed in LAYERS (and shipped, and type-checked)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = set(config["tool"]["setuptools"]["packages"])
    modules = set(config["tool"]["setuptools"].get("py-modules", []))
    assert shipped | modules == set(LAYERS)
    checked = set(config["tool"]["mypy"]["files"])
    assert shipped - {"amity"} <= checked  # strict typing below the CLI
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert all(f"COPY {name} ./{name}" in dockerfile for name in shipped)


def test_domain_is_pure() -> None:
    """The model uses pydantic and the standard library only, and reads no environment."""
    found = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for line, module in imported_modules(tree):
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or top in {"domain", "__future__"}
                or any(module == p or module.startswith(p + ".") for p in DOMAIN_THIRD_PARTY)
            )
            if not allowed:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
        found += [
            f"{path.relative_to(ROOT)}:{line} reads {what}"
            for line, what in environment_reads(tree)
        ]
    assert found == []


def test_only_the_settings_read_the_environment() -> None:
    """Configuration has one place (runtime/settings.py); every other part is handed it."""
    found = [
        f"{path.relative_to(ROOT)}:{line} reads {what}"
        for _, path in product_files()
        if str(path.relative_to(ROOT)) not in ENVIRONMENT_READERS
        for line, what in environment_reads(ast.parse(path.read_text(), str(path)))
    ]
    assert found == []


def environment_reads(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """`os.environ` / `os.getenv` / `environ` / `getenv` wherever they appear."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            yield node.lineno, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in {"environ", "getenv", "environb"}:
                    yield node.lineno, f"os.{alias.name}"


@pytest.mark.parametrize(
    ("layer", "module", "line"),
    [
        ("domain", "domain/late.py", "from store.application import PartnershipStore"),
        ("runtime", "runtime/late.py", "from amity.cli import main"),
        ("workflows", "workflows/late.py", "    from audit.history import history"),
        ("worker", "worker.py", "from amity.cli_common import UserError"),
    ],
)
def test_an_upward_import_is_found(tmp_path: Path, layer: str, module: str, line: str) -> None:
    """The checker on a copy of the layout with one forbidden import added."""
    for name in LAYERS:
        (tmp_path / name).mkdir()
    (tmp_path / "worker.py").write_text("")
    source = f"def later() -> None:\n{line}\n" if line.startswith(" ") else f"{line}\n"
    (tmp_path / module).write_text(source)
    found = upward(tmp_path)
    assert len(found) == 1 and found[0].startswith(module)
    assert package_cycles(tmp_path) == []  # one edge up is not yet a cycle


def test_a_cycle_is_found(tmp_path: Path) -> None:
    for name in LAYERS:
        (tmp_path / name).mkdir()
    (tmp_path / "store" / "a.py").write_text("import runtime.b\n")
    (tmp_path / "runtime" / "b.py").write_text("from store import a\n")
    assert package_cycles(tmp_path) == [["store", "runtime", "store"]]


def test_a_script_entry_point_is_not_an_edge(tmp_path: Path) -> None:
    for name in LAYERS:
        (tmp_path / name).mkdir()
    (tmp_path / "worker.py").write_text(
        'if __name__ == "__main__":\n    from amity.cli import main\n'
    )
    assert upward(tmp_path) == []


def test_a_cycle_between_modules_is_found(tmp_path: Path) -> None:
    for name in LAYERS:
        (tmp_path / name).mkdir()
    (tmp_path / "domain" / "catalogue.py").write_text("from domain import slices\n")
    (tmp_path / "domain" / "slices").mkdir()
    (tmp_path / "domain" / "slices" / "__init__.py").write_text("from domain.slices import a\n")
    (tmp_path / "domain" / "slices" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from domain.catalogue import X\n"
    )
    assert module_cycles(tmp_path) == [["domain.catalogue", "domain.slices", "domain.slices.a"]]
