"""The core imports no I/O library, and no scheduler module imports another in a cycle.

The core (``scheduler.domain`` and its submodules, ``rules``, ``planner``, ``reconcile``,
``escalation``, ``adherence`` and the agenda decisions) decides on values and records; the
store (SQLAlchemy), the org-file loader (pydantic) and agenda rendering (Jinja2) produce or
consume them. Importing the core in a fresh interpreter must load none of those libraries.

The import graph is read from the source (top-level ``import``/``from`` statements; imports under
``if TYPE_CHECKING:`` never run and are left out). It must have no cycle, and none may hide in an
import deferred into a function either: such an import is a cycle waiting for someone to move it
to the top of the file.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import scheduler

PACKAGE = Path(scheduler.__file__).resolve().parent
REPO = PACKAGE.parent

#: Libraries that do I/O or exist for it: the ledger's database, the org file's and the
#: environment's validation, agenda templates.
IO_LIBRARIES = ("sqlalchemy", "pydantic", "pydantic_settings", "jinja2")

#: Core modules outside the core packages (``domain``, ``rules``, ``planner``, every module of
#: which is core). ``scheduler.agenda.template`` renders with Jinja2 and is not a decision;
#: ``store`` and ``publish`` are the agendas' I/O.
CORE_MODULES = (
    "scheduler.reconcile",
    "scheduler.escalation",
    "scheduler.adherence",
    "scheduler.agenda",
    "scheduler.agenda.plan",
    "scheduler.agenda.items",
    "scheduler.agenda.context",
    "scheduler.agenda.pipeline",
    # the pass's pure decisions (``decide`` words notices, whose module sends them too)
    "scheduler.engine.observe",
    "scheduler.engine.makeups",
    "scheduler.engine.series",
)
CORE_PACKAGES = ("scheduler.domain", "scheduler.rules", "scheduler.planner")


def _module_files() -> dict[str, Path]:
    """Every module of the ``scheduler`` package by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _core() -> list[str]:
    modules = _module_files()
    in_packages = [
        name
        for name in modules
        if any(name == package or name.startswith(f"{package}.") for package in CORE_PACKAGES)
    ]
    return [*in_packages, *CORE_MODULES]


# What runs in the fresh interpreter: import each module in turn and say which of the libraries
# it was the first to load, so a failure names the module that pulled a library in.
_PROBE = """
import importlib, json, sys
libraries, found = json.loads(sys.argv[1]), {}
for name in json.loads(sys.argv[2]):
    before = {lib for lib in libraries if lib in sys.modules}
    importlib.import_module(name)
    loaded = sorted(lib for lib in libraries if lib in sys.modules and lib not in before)
    if loaded:
        found[name] = loaded
print(json.dumps(found))
"""


def _libraries_loaded_by(modules: Iterable[str]) -> dict[str, list[str]]:
    """module -> the I/O libraries its import was the first to load, in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(IO_LIBRARIES), json.dumps(list(modules))],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


def test_the_core_imports_no_sqlalchemy_pydantic_or_jinja2() -> None:
    core = _core()
    assert {"scheduler.domain.records", "scheduler.domain.settings"} <= set(core)
    assert _libraries_loaded_by(core) == {}


def test_the_purity_probe_sees_a_library_when_one_is_loaded() -> None:
    # The probe itself, on modules that do load the libraries: a check that cannot fail is none.
    found = _libraries_loaded_by(
        [
            "scheduler.domain",
            "scheduler.store.ledger",
            "scheduler.orgfile",
            "scheduler.agenda.template",
        ]
    )
    assert found == {
        "scheduler.store.ledger": ["sqlalchemy"],
        "scheduler.orgfile": ["pydantic", "pydantic_settings"],
        "scheduler.agenda.template": ["jinja2"],
    }


# --------------------------------------------------------------------------- import cycles


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(
    module: str,
    is_package: bool,
    tree: ast.Module,
    modules: Mapping[str, Path],
    *,
    in_functions: bool,
) -> set[str]:
    """The scheduler modules ``module`` imports: at module level, and inside functions too when
    ``in_functions``. ``from a import b`` imports the module ``a.b`` when there is one, else
    names of ``a``."""
    found: set[str] = set()

    def walk(nodes: Iterable[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not in_functions:
                continue
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                walk(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    package = package[: len(package) - node.level + 1]
                    base = ".".join([*package, *([base] if base else [])])
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    found.add(submodule if submodule in modules else base)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    walk([child])
            # Handlers of a ``try`` hold statements one level further down.
            for handler in getattr(node, "handlers", []):
                walk(handler.body)

    walk(tree.body)
    return {name for name in found if name in modules and name != module}


def _graph(*, in_functions: bool) -> dict[str, set[str]]:
    modules = _module_files()
    return {
        name: _imported(
            name,
            path.name == "__init__.py",
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path)),
            modules,
            in_functions=in_functions,
        )
        for name, path in modules.items()
    }


def _cycles(graph: Mapping[str, Iterable[str]]) -> Iterator[list[str]]:
    """One cycle (``[a, b, ..., a]``) through each strongly connected set of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    for component in components:
        members = set(component)
        start = min(component)
        path, seen = [start], {start}
        while True:
            following = sorted(t for t in graph[path[-1]] if t in members)
            nxt = next((t for t in following if t == start or t not in seen), following[0])
            path.append(nxt)
            if nxt == start or nxt in seen:
                yield path[path.index(nxt) :]
                break
            seen.add(nxt)


def _described(cycles: Iterable[list[str]]) -> list[str]:
    return [" -> ".join(cycle) for cycle in cycles]


def test_no_import_cycle_among_scheduler_modules_at_module_level() -> None:
    assert _described(_cycles(_graph(in_functions=False))) == []


def test_no_import_cycle_hides_in_an_import_deferred_into_a_function() -> None:
    assert _described(_cycles(_graph(in_functions=True))) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    assert sorted(_described(_cycles(graph))) == ["a -> b -> c -> a", "e -> e2 -> e"]


def test_the_graph_sees_both_kinds_of_import() -> None:
    graph = _graph(in_functions=True)
    # A top-level ``from scheduler.x import name`` and a ``from scheduler import module``.
    assert "scheduler.domain.records" in graph["scheduler.reconcile"]
    assert "scheduler.ical" in graph["scheduler.feeds"]
    # An import inside a function (the CLI defers its commands' imports).
    assert "scheduler.sync" in graph["scheduler.cli"]
    assert "scheduler.sync" not in _graph(in_functions=False)["scheduler.cli"]
