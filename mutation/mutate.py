"""`make mutate`: mutation testing of Amity's pure, fast code with mutmut.

mutmut rewrites each function of the chosen modules many ways (a `<` for a `<=`, a
constant changed, a call dropped...) and runs the fast tests that reach that function
against every mutant. A mutant the tests do not notice ("survived") is either a missing
test or an equivalent change; docs/testing.md lists the equivalent ones and why.

The run happens in a copy of the repository under var/mutation/ (mutmut writes its
`mutants/` folder and cache beside the code it mutates), with a setup.cfg made here, so the
working tree is never touched. Usage:

    .venv/bin/python -m mutation.mutate                  # every module below
    .venv/bin/python -m mutation.mutate tlog/merkle.py  # some of them
    .venv/bin/python -m mutation.mutate --survivors      # also print each survivor's diff

Exit 0 when no mutant survives that is not listed as equivalent in mutation/equivalent.txt,
1 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = ROOT / "var" / "mutation"
#: The fast pure tests of the domain (not the store's, which need a database, nor the
#: Hypothesis properties, which take seconds per run: both run in `make test`).
DOMAIN_TESTS = [
    "tests/domain/slices",
    "tests/domain/test_stage_matrix.py",
    "tests/domain/test_story.py",
    "tests/domain/test_evolve.py",
    "tests/domain/test_parse.py",
    "tests/domain/test_decider_details.py",
    "tests/domain/test_summaries.py",
    "tests/domain/test_bounded_state.py",
    "tests/domain/test_state_copy.py",
    "tests/domain/test_registry.py",
    "tests/domain/test_state_old_shape.py",
    "tests/domain/test_state_clock.py",
    "tests/domain/test_business_clock.py",
    "tests/domain/test_correction_counts.py",
    "tests/domain/test_record_of.py",
    "tests/domain/test_enum_values.py",
]
#: The pure modules and the fast tests that exercise them (no Temporal, no server).
MODULES: dict[str, list[str]] = {
    "tlog/merkle.py": ["tests/audit/test_merkle.py"],
    "tlog/note.py": ["tests/audit/test_note.py", "tests/audit/test_note_formats.py"],
    "domain/decider.py": DOMAIN_TESTS,
    "domain/slices/*": DOMAIN_TESTS,
    "domain/parsing.py": DOMAIN_TESTS,
    "domain/state.py": DOMAIN_TESTS,
    "domain/values.py": DOMAIN_TESTS,
    "domain/limits.py": ["tests/domain/test_limits.py", "tests/runtime/test_guard.py"],
    "runtime/guard.py": ["tests/runtime/test_guard.py"],
}
#: Copied beside the mutated packages so the tests import as usual.
COPY = [
    "domain",
    "tlog",
    "runtime",
    "audit",
    "amity",
    "activities",
    "workflows",
    "worker.py",
    "tests",
    "examples",
    "schemas",
    "pyproject.toml",
]
#: Decorators that only register the function and return it unchanged (domain/registry.py).
#: mutmut skips every decorated function, so in the copy they are applied after the `def`
#: instead (`f = command(...)(f)`): the same registration, in the same order, of a
#: function mutmut now mutates.
REGISTERING = {"command", "evolves"}
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"
#: A mutant whose tests fail, or never finish (an endless loop), was caught.
DETECTED = {"killed", "timeout"}
RESULT = re.compile(r"^\s*(?P<name>[\w.]+__mutmut_\d+): (?P<status>.+)$")


def equivalent_names() -> set[str]:
    """Mutant names judged equivalent (one per line; `#` starts a comment)."""
    if not EQUIVALENT.exists():
        return set()
    names = set()
    for line in EQUIVALENT.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.add(name)
    return names


def undecorate(path: Path) -> None:
    """Rewrite the registering decorators of `path`'s top-level functions as calls after them."""
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
            continue
        if not all(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id in REGISTERING
            for d in node.decorator_list
        ):
            continue
        first = min(d.lineno for d in node.decorator_list) - 1
        wrapped = node.name
        for decorator in reversed(node.decorator_list):
            wrapped = f"{ast.get_source_segment(source, decorator)}({wrapped})"
        body = lines[node.lineno - 1 : node.end_lineno]
        edits.append((first, node.end_lineno or node.lineno, "".join(body) + f"\n{wrapped}\n"))
    for start, end, text in reversed(edits):
        lines[start:end] = [text]
    path.write_text("".join(lines))


def prepare(modules: list[str]) -> None:
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "histories")
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, WORKSPACE / name, ignore=ignore)
        else:
            shutil.copy2(source, WORKSPACE / name)
    for module in modules:
        for path in sorted(WORKSPACE.glob(module)):
            if path.suffix == ".py":
                undecorate(path)
    tests = sorted({t for m in modules for t in MODULES[m]})
    packages = sorted({m.split("/")[0] for m in modules})
    others = [n for n in COPY if n not in packages and n not in {"tests", "pyproject.toml"}]
    lines = [
        "[mutmut]",
        "source_paths=",
        *(f"    {p}" for p in packages),
        "only_mutate=",
        *(f"    {m}" for m in modules),
        "also_copy=",
        *(f"    {o}" for o in others),
        "pytest_add_cli_args_test_selection=",
        *(f"    {t}" for t in tests),
        "pytest_add_cli_args=",
        "    -p",
        "    no:randomly",
        "    -p",
        "    no:cacheprovider",
        "use_git_change_detection=false",
    ]
    (WORKSPACE / "setup.cfg").write_text("\n".join(lines) + "\n")


def mutmut(*args: str) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "mutmut"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(binary), *args], cwd=WORKSPACE, env=env, text=True, capture_output=True
    )


def module_of(name: str) -> str:
    return name.split(".x", 1)[0].split(".xǁ", 1)[0]


def main(argv: list[str] | None = None) -> int:
    global WORKSPACE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of: {', '.join(MODULES)}")
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument("--max-children", default="2", help="parallel test processes")
    parser.add_argument(
        "--workspace", type=Path, default=WORKSPACE, help="where the copy is made (one per run)"
    )
    args = parser.parse_args(argv)
    WORKSPACE = args.workspace.resolve()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        print(f"unknown module {unknown[0]}; choose from {', '.join(MODULES)}", file=sys.stderr)
        return 2
    modules = args.modules or list(MODULES)
    prepare(modules)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", args.max_children],
        cwd=WORKSPACE,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if run.returncode != 0:
        print(f"mutmut run failed (exit {run.returncode})", file=sys.stderr)
        return run.returncode
    results = mutmut("results", "--all", "true").stdout.splitlines()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for line in results:
        match = RESULT.match(line)
        if not match:
            continue
        name, status = match["name"], match["status"].strip()
        counts[module_of(name)][status] += 1
        if status not in DETECTED:
            survivors.append(name)
    equivalent = equivalent_names()
    print(f"\n{'module':<22}{'mutants':>8}{'killed':>8}{'equiv.':>8}{'other':>8}{'score':>8}")
    for module, counter in sorted(counts.items()):
        total = sum(counter.values())
        killed = sum(counter[s] for s in DETECTED)
        equiv = sum(1 for s in survivors if module_of(s) == module and s in equivalent)
        other = total - killed - equiv
        score = 100.0 * (killed + equiv) / total if total else 100.0
        print(f"{module:<22}{total:>8}{killed:>8}{equiv:>8}{other:>8}{score:>7.1f}%")
    unexplained = [s for s in survivors if s not in equivalent]
    for name in unexplained:
        status = next(
            (m["status"] for m in map(RESULT.match, results) if m and m["name"] == name), "?"
        )
        print(f"not killed: {name} ({status})")
        if args.survivors:
            print(mutmut("show", name).stdout)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
