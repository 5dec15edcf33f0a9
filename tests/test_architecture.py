"""The house rules that a reader of the code relies on, checked on the source (DESIGN.md, "House
rules"): one dependency order between modules and no import cycles between files, no import
hidden inside a function, no file over 400 lines, and views that leave committing to the request
lifecycle."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "platform" / "shangliang"
MAX_LINES = 400
# Lower layers never import higher ones; a layer offers a registry that a higher one fills.
LAYERS = [
    {"config", "i18n", "core"},
    {"audit"},
    {"accounts"},
    {"tenants"},
    {"procedures"},
    {"notifications"},
    {"departments"},
    {"topics"},
    {"files", "meetings", "roster"},
    {"branding", "portal", "benchmarks", "ledger", "console", "integrations"},
    {"transfer", "models"},  # models: every model, for the metadata that export and migrations read
    {"api"},
    {"demo"},
    {"cli", "wsgi", "__init__"},  # the app factory and the command line assemble every module
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
# Late imports that are not there to dodge a cycle: the app factory and the command line load
# modules when they are used (importing the package must not import every module, and
# `shangliang --help` must not load the app).
LATE_IMPORTS_ALLOWED = {"__init__.py", "cli.py"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def sources() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(mod: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The shangliang modules an import statement names ('' for the package itself)."""
    if isinstance(node, ast.Import):
        return [a.name.removeprefix("shangliang.") for a in node.names if a.name.startswith("shangliang")]
    if node.level == 0:
        if not (node.module or "").startswith("shangliang"):
            return []
        base = node.module.removeprefix("shangliang").lstrip(".")
    else:
        here = [] if mod == "__init__" else mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        up = here[:len(here) - (node.level - 1)] if node.level > 1 else here
        base = ".".join(up + ([node.module] if node.module else []))
    # `from . import operations` and `from .core import jobs` name submodules; names that are
    # not modules (`from .models import Topic`) are dropped later, as unknown modules
    return [base] + [f"{base}.{a.name}".lstrip(".") for a in node.names]


def imports(mod: str, path: Path) -> tuple[set[str], list[tuple[int, str]]]:
    """(modules imported when the module loads, [(line, module) imported inside a function])."""
    tree = ast.parse(path.read_text("utf-8"))
    top, late = set(), []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: nothing is imported when the code runs
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _resolve(mod, path, child):
                    (late.append((child.lineno, target)) if in_function else top.add(target))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return top, late


def graph() -> dict[str, set[str]]:
    known = sources()
    out = {}
    for mod, path in known.items():
        top, _late = imports(mod, path)
        # a module's own packages are imported before it whatever it says: not an arrow
        out[mod] = {t for t in top if t in known and t != mod and not mod.startswith(t + ".")}
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def package(mod: str) -> str:
    return mod.split(".")[0]


def test_no_file_imports_itself_in_a_circle():
    assert cycles(graph()) == []


def test_modules_import_only_their_own_layer_or_lower_ones():
    upward = sorted(f"{a} -> {b}" for a, targets in graph().items() for b in targets
                    if package(a) != package(b) and RANK[package(b)] > RANK[package(a)])
    assert upward == []
    by_package: dict[str, set[str]] = {}
    for a, targets in graph().items():  # `models` lists every table for the metadata: it is no room of its own
        by_package.setdefault(package(a), set()).update(package(b) for b in targets
                                                        if package(b) not in (package(a), "models"))
    assert cycles(by_package) == []


def test_every_module_has_its_place_in_the_order():
    assert sorted({package(m) for m in sources()} - set(RANK)) == []


def test_no_import_hides_inside_a_function():
    known = sources()
    late = sorted(f"{path.relative_to(PACKAGE)}:{line} imports {target}"
                  for mod, path in known.items() if path.relative_to(PACKAGE).as_posix() not in LATE_IMPORTS_ALLOWED
                  for line, target in imports(mod, path)[1] if target in known)
    assert late == []


def test_no_file_is_over_400_lines():
    long = sorted(f"{p.relative_to(PACKAGE)}: {n}" for p in PACKAGE.rglob("*.py")
                  if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES)
    assert long == []


@pytest.mark.parametrize("pattern", [r"\bdb\.commit\(\)", r"\bdb\.rollback\(\)", r"Session\.commit\(\)"])
def test_views_leave_committing_to_the_request_lifecycle(pattern):
    views = [p for p in PACKAGE.rglob("*.py") if p.name.endswith("views.py") or p.parent.name == "api"]
    found = sorted(f"{p.relative_to(PACKAGE)}:{i}" for p in views
                   for i, line in enumerate(p.read_text("utf-8").splitlines(), 1) if re.search(pattern, line))
    assert found == []


def test_the_checker_sees_what_it_checks():
    """The checks above would pass on an empty graph: make sure the graph is the real one."""
    edges = graph()
    assert "topics.operations" in edges and "core.db" in edges["topics.operations"] | {
        t for m in edges["topics.operations"] for t in edges.get(m, ())}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    mod, path = "tenants.views", PACKAGE / "tenants" / "views.py"
    assert "tenants.operations" in imports(mod, path)[0]
