"""The shape of the ctxapi package: which of its modules import which, and how long they get."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ctxapi"
MAX_LINES = 450

#: Module → the modules of the same package that it imports.
Graph = dict[str, set[str]]


def test_the_modules_import_each_other_in_one_direction_only() -> None:
    """No import cycles, counting imports inside functions too."""
    # given
    graph = import_graph(PACKAGE)
    # when
    found = cycles(graph)
    # then
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(chain) for chain in found)


def test_the_graphql_and_seeding_layers_do_not_import_each_other() -> None:
    """The API and the loader share the domain model (ctxapi.model), not each other's code."""
    # given
    graph = import_graph(PACKAGE)
    # when
    found = imports_between(graph, "ctxapi.graphql", "ctxapi.seeding")
    found += imports_between(graph, "ctxapi.seeding", "ctxapi.graphql")
    # then
    assert not found, "\n".join(found)


def test_no_module_is_longer_than_450_lines() -> None:
    """Past that, a module does several things: split it."""
    # given
    modules = module_paths(PACKAGE)
    # when
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules.items()}
    # then
    too_long = {name: lines for name, lines in lengths.items() if lines > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_the_import_graph_counts_lazy_relative_and_package_imports(tmp_path: Path) -> None:
    """The graph the tests above check sees every kind of import that can close a cycle."""
    # given: b imports a inside a function, relatively; c imports a name of the package
    files = {
        "__init__.py": "",
        "a.py": "from pkg.sub import b\nimport json\n",
        "c.py": "from pkg import VERSION\n",
        "sub/__init__.py": "",
        "sub/b.py": "def later():\n    from .. import a\n",
    }
    for name, text in files.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text)
    # when
    graph = import_graph(tmp_path / "pkg")
    # then
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.c"] == {"pkg"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.a"]]


# -- the import graph ------------------------------------------------------------------------
def module_paths(package: Path) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package's ``__init__`` by its own)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def import_graph(package: Path) -> Graph:
    """Each module of ``package`` → the package's modules it imports, wherever the import is
    (module level, in a function, under ``if TYPE_CHECKING``)."""
    modules = module_paths(package)
    graph: Graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        imported = {
            target for node in ast.walk(tree) for target in _targets(node, name, path, modules)
        }
        graph[name] = imported - {name}
    return graph


def _targets(node: ast.AST, importer: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield from _module_of(alias.name, modules)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = importer.split(".") if path.name == "__init__.py" else importer.split(".")[:-1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            yield from _module_of(submodule if submodule in modules else base, modules)


def _module_of(dotted: str, modules: dict[str, Path]) -> Iterator[str]:
    """The package's module ``dotted`` names: itself, else the nearest one that holds it."""
    parts = dotted.split(".")
    while parts:
        if ".".join(parts) in modules:
            yield ".".join(parts)
            return
        parts.pop()


def cycles(graph: Graph) -> list[list[str]]:
    """Import cycles as chains ``a -> … -> a``: the shortest through each module in one."""
    found: list[list[str]] = []
    covered: set[str] = set()
    for module in sorted(graph):
        chain = None if module in covered else _shortest_chain(graph, module, module)
        if chain:
            found.append(chain)
            covered.update(chain)
    return found


def _shortest_chain(graph: Graph, source: str, target: str) -> list[str] | None:
    """The fewest imports leading from ``source`` to ``target`` (breadth first)."""
    parent: dict[str, str] = {}
    queue = deque([source])
    while queue:
        module = queue.popleft()
        for imported in sorted(graph[module]):
            if imported == target:
                chain = [module]
                while chain[-1] != source:
                    chain.append(parent[chain[-1]])
                return [*reversed(chain), target]
            if imported not in parent and imported != source:
                parent[imported] = module
                queue.append(imported)
    return None


def imports_between(graph: Graph, importer: str, imported: str) -> list[str]:
    """Imports from modules in package ``importer`` of modules in package ``imported``."""
    return [
        f"{module} imports {target}"
        for module in sorted(graph)
        for target in sorted(graph[module])
        if _within(module, importer) and _within(target, imported)
    ]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")
