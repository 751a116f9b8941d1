"""The package's import graph: no cycle, no deferred import, every module importable alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cyberscan"

# Function-local imports that are not there to dodge a cycle, and why.
DEFERRED_IMPORTS = {
    # `train/` imports the detector, and training must not pull in Flask.
    ("cyberscan.detector", "flask"): "training imports the detector without Flask",
    # run.py serves under one async library; the other must not be loaded at all.
    ("cyberscan.serve", "eventlet.wsgi"): "only the configured async server is loaded",
    ("cyberscan.serve", "gevent.pywsgi"): "only the configured async server is loaded",
    ("cyberscan.serve", "eventlet.hubs"): "only the configured async server is loaded",
    (
        "cyberscan.serve",
        "eventlet.patcher",
    ): "only the configured async server is loaded",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not TYPE_CHECKING, not in defs)."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and not is_type_checking(node):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
    return found


def resolve(
    name: str, node: ast.Import | ast.ImportFrom, modules: set[str]
) -> set[str]:
    """The package modules an import statement in module `name` loads by name."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    base = node.module or ""
    if node.level:
        package = name if is_package(name) else name.rpartition(".")[0]
        parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        base = ".".join(parts + ([base] if base else []))
    targets = set()
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in modules:
            targets.add(submodule)
        elif base in modules:
            targets.add(base)
    return targets


def is_package(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    names = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in module_level_imports(tree):
            edges |= resolve(name, node, names)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_edges_it_must_see():
    """A checker that resolves nothing would find no cycle: pin a few known edges."""
    graph = import_graph()
    assert "cyberscan.live.notify" in graph["cyberscan.services.messaging"]
    assert "cyberscan.extensions" in graph["cyberscan.models.user"]
    assert "cyberscan.realtime.events" in graph["cyberscan.realtime"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_package():
    assert cycles(import_graph()) == []


def test_imports_point_down_the_layers():
    """STYLE.md §7: services never import the handlers; live imports no service."""
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith("cyberscan.services"):
            assert not {t for t in targets if t.startswith("cyberscan.realtime")}, name
            assert not {t for t in targets if t.startswith("cyberscan.api")}, name
        if name.startswith("cyberscan.live"):
            allowed = ("cyberscan.live", "cyberscan.extensions", "cyberscan.models")
            allowed += ("cyberscan.schemas",)
            assert all(t.startswith(allowed) for t in targets), (name, targets)


def test_no_function_local_import_in_the_package():
    deferred = []
    for name, path in package_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    target = (
                        node.module
                        if isinstance(node, ast.ImportFrom)
                        else node.names[0].name
                    )
                    if (name, target) not in DEFERRED_IMPORTS:
                        deferred.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert deferred == []


# Each child is forked from a parent that holds the third-party libraries but no module
# of this project, so a module that only imports because another one ran first fails.
# The libraries to preload are whatever importing the whole package loads (learned in a
# throwaway child), so each check costs only the project's own modules.
ALONE_SCRIPT = r"""
import importlib, os, sys, traceback
OURS = ("cyberscan", "config")
modules = sys.argv[1:]
read, write = os.pipe()
if os.fork() == 0:
    os.close(read)
    for name in modules:
        importlib.import_module(name)
    libs = [m for m in sys.modules if m.split(".")[0] not in OURS]
    os.write(write, "\n".join(libs).encode())
    os._exit(0)
os.close(write)
with os.fdopen(read) as pipe:
    libs = pipe.read().split()
os.wait()
for lib in libs:
    try:
        importlib.import_module(lib)
    except Exception:
        pass
assert not [m for m in sys.modules if m.split(".")[0] in OURS]
failed, running = 0, 0
for name in modules:
    if running >= (os.cpu_count() or 1):
        failed += os.wait()[1] != 0
        running -= 1
    if os.fork() == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            sys.stderr.write(f"--- import {name} alone failed:\n{traceback.format_exc()}")
            sys.stderr.flush()
            os._exit(1)
        os._exit(0)
    running += 1
while running:
    failed += os.wait()[1] != 0
    running -= 1
print(f"{len(modules) - failed} of {len(modules)} modules import alone")
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_alone_in_a_fresh_interpreter():
    modules = sorted(package_modules())
    result = subprocess.run(
        [sys.executable, "-c", ALONE_SCRIPT, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"{len(modules)} of {len(modules)} modules import alone" in result.stdout


def printed_by(script: str) -> str:
    """What a fresh interpreter running ``script`` prints (it must succeed)."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_training_imports_the_detector_without_flask():
    script = (
        "import sys, cyberscan.detector, cyberscan.detector.classifier; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_socketio', 'flask_sqlalchemy')))"
    )
    assert printed_by(script) == "[]"


def test_an_app_that_never_scores_never_imports_scikit_learn():
    """What a `flask` command builds: the app, without the scorer's libraries; the
    model and scikit-learn load on the first score (or before run.py listens)."""
    script = (
        "import sys; from cyberscan import create_app; app = create_app(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sklearn', 'scipy', 'numpy', 'joblib'}), app.extensions['detector'])"
    )
    assert printed_by(script) == "[] None"
