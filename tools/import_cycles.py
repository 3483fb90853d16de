"""Ponte's runtime import graph: modules, edges and cycles; exits 1 when there is a cycle.

Reads every module of service/ with `ast` and keeps the imports that run when the module is
imported: module-level statements (inside `try`/`if` too), but not the body of a function or
class, and not an `if TYPE_CHECKING:` block (mypy reads those; Python never runs them). An edge
A -> B means importing A imports B. `from service.x import name` is an edge to `service.x.name`
when that is a module, else to `service.x`; importing a package also imports the packages above
it. A cycle is a strongly connected component of more than one module. Exits 1 on any cycle
not listed in ``KNOWN``, and when a function imports a module of the package (an import that
hides an arrow from the graph and from the contracts). Third-party imports inside functions
are listed (the allowlist is in pyproject.toml) but pass.

    .venv/bin/python tools/import_cycles.py            # counts, and each cycle found
    .venv/bin/python tools/import_cycles.py --edges    # also every edge, one per line
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "service"
# Cycles being taken apart on another branch: shown, but not a failure. Keep this empty.
KNOWN: list[set[str]] = []
# Imports of the package inside a function that are there on purpose, each with its reason.
ALLOWED = {
    ("service/store/open.py", "service.store.postgres.store"):
        "psycopg (~22 MiB, ~0.2 s) loads only for a postgresql:// storage.url",
    ("service/commands/storage.py", "service.store.copy"):
        "psycopg loads only for `ponte copy`",
}


def module_names(root: Path) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its __init__.py)."""
    names: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def runtime_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run at import time, in module-level (and nested block) order."""
    found: list[ast.Import | ast.ImportFrom] = []
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            found.append(stmt)
        elif isinstance(stmt, ast.If):
            if not is_type_checking(stmt.test):
                found += runtime_imports(stmt.body)
            found += runtime_imports(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)):
                found += runtime_imports(block)
        elif isinstance(stmt, ast.With):
            found += runtime_imports(stmt.body)
    return found


def absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name a `from ... import` refers to (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def with_parents(name: str, modules: dict[str, Path]) -> list[str]:
    """A module and the packages above it that are ours (importing a.b.c runs a and a.b first)."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in modules]


def targets(module: str, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The modules of ours one import statement loads."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            found.update(with_parents(alias.name, modules))
        return found
    base = absolute(module, modules[module].name == "__init__.py", node)
    found.update(with_parents(base, modules))
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            found.add(f"{base}.{alias.name}")
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the modules of ours it imports at run time (itself excluded)."""
    modules = module_names(root)
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found: set[str] = set()
        for node in runtime_imports(tree.body):
            found |= targets(name, node, modules)
        # a package's parents are imported first; that is an order, not a use
        found -= set(with_parents(name, modules)[:-1])
        found.discard(name)
        edges[name] = found
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        found.append(sorted(component))
    return sorted(found)


def local_imports() -> list[tuple[str, int, str]]:
    """Imports inside a function or method: (file, line, module). They hide from the graph."""
    found: list[tuple[str, int, str]] = []
    for path in module_names(ROOT).values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    found += [(str(path.relative_to(ROOT)), node.lineno, a.name) for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.append((str(path.relative_to(ROOT)), node.lineno, node.module))
    return sorted(set(found))


def main(argv: list[str]) -> int:
    edges = graph()
    found = cycles(edges)
    local = local_imports()
    mine = [row for row in local if row[2] == PACKAGE or row[2].startswith(PACKAGE + ".")]
    ours = [row for row in mine if (row[0], row[2]) not in ALLOWED]
    print(f"import graph of {PACKAGE}/: {len(edges)} modules, "
          f"{sum(len(t) for t in edges.values())} edges, {len(found)} cycles; "
          f"imports inside functions: {len(ours)} of {PACKAGE}.* (+{len(mine) - len(ours)} allowed), "
          f"{len(local) - len(mine)} third-party")
    for file, line, module in local:
        why = ALLOWED.get((file, module))
        print(f"  {file}:{line}: {module} imported inside a function" + (f" (allowed: {why})" if why else ""))
    if "--edges" in argv:
        for name in sorted(edges):
            for target in sorted(edges[name]):
                print(f"  {name} -> {target}")
    for number, component in enumerate(found, 1):
        known = " (known, TODO: see KNOWN in tools/import_cycles.py)" if set(component) in KNOWN else ""
        print(f"cycle {number} ({len(component)} modules){known}:")
        members = set(component)
        for name in component:
            inside = sorted(edges[name] & members)
            print(f"  {name} -> {', '.join(inside)}")
    return 1 if ours or any(set(component) not in KNOWN for component in found) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
