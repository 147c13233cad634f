"""The map of the README's "Architecture" section, kept true: no import cycle between the
project's modules (function-level imports and the package `__init__` an import runs count
too), dependencies that point one way between the apps, and one small door from journey
into the apps above it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "journey", "engagement", "metrics", "config")
# Which app may import which (the direction of dependencies). journey reaches the apps above
# it only through the modules of DOORS.
MAY_IMPORT = {
    "accounts": set(),
    "journey": {"accounts"},
    "metrics": {"accounts", "journey"},
    "engagement": {"accounts", "journey", "metrics"},
    "config": {"accounts", "journey", "engagement", "metrics"},
}
DOORS = {
    "journey": {"engagement.entry", "metrics.services"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in MODULES:
            return candidate
    return None


def _imports(module: str) -> set[str]:
    """Every project module `module` imports, anywhere in it, with the packages whose
    `__init__` Python runs on the way (importing a.b.c runs a and a.b first)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            target = _resolve(name)
            if target is None:
                continue
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                found.add(".".join(parts[:i]))
    found.discard(module)
    # A module's own parent packages are already running when it runs.
    return {m for m in found if not module.startswith(m + ".") and m in MODULES}


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected sets of modules larger than one (Tarjan)."""
    sys.setrecursionlimit(10_000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_the_graph_is_real():
    assert len(MODULES) > 80
    assert "engagement.entry" in GRAPH["journey.services.transitions"]
    assert "journey.models" in GRAPH["metrics.engine"]


def test_no_import_cycles():
    assert _cycles() == []


def test_dependencies_point_one_way_and_journey_has_one_door_per_app_above():
    wrong = []
    for module, targets in GRAPH.items():
        app = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other == app:
                continue
            doors = DOORS.get(app, set())
            # A door's packages run on the way in (empty `__init__` files).
            through_door = any(door == target or door.startswith(target + ".") for door in doors)
            if other not in MAY_IMPORT[app] and not through_door:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_app_imports_another_apps_views():
    wrong = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target.split(".")[0] != module.split(".")[0]
        and target.split(".")[0] != "config"
        and (target.endswith(".views") or ".views." in target or target.endswith("survey_views"))
        and not module.startswith("config.")
    ]
    assert wrong == []


def test_drf_defaults_point_to_the_shared_plumbing():
    drf = settings.REST_FRAMEWORK
    for key in ("DEFAULT_PERMISSION_CLASSES", "DEFAULT_PAGINATION_CLASS", "EXCEPTION_HANDLER"):
        values = drf[key] if isinstance(drf[key], list) else [drf[key]]
        assert all(v.startswith("accounts.api.") for v in values), (key, values)
