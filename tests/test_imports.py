"""No import cycles: in the library, the benchmarks, the experiments and the grader, every module can be read
after the modules it imports (an import inside a function counts too: a lazy import is still a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("course", "bench", "experiments", "autograder")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (type hints only: never run)."""
    skipped = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING"
        ):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def _imports(path: Path, modules: dict[str, Path], name: str) -> set[str]:
    """The project modules that ``path`` (module ``name``) imports when it runs.

    ``from a.b import c`` imports the module a.b.c when there is one, else a.b; a module's own parent
    packages are not counted (every submodule runs its package's ``__init__`` first, by design).
    """
    tree = ast.parse(path.read_text())
    skipped = _type_checking_only(tree)
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.add(sub if sub in modules else node.module)
    parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {n for n in names if n in modules and n not in parents and n != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def test_cycle_finder_finds_a_two_module_cycle_and_passes_a_chain():
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_itself_back_through_others():
    modules = _modules()
    graph = {name: _imports(path, modules, name) for name, path in modules.items()}
    assert _cycles(graph) == [], "import cycles (each list is a set of modules importing each other)"


def test_the_library_imports_no_benchmark_experiment_or_grader_code():
    modules = _modules()
    for name, path in modules.items():
        if name.split(".")[0] == "course":
            outside = {m for m in _imports(path, modules, name) if m.split(".")[0] != "course"}
            assert not outside, f"{name} imports {sorted(outside)}: the library stands alone"
