"""Import cycles among the project's modules, counting imports inside functions too (they
hide a cycle from Python, not from a reader). Standard library only.

    python3 scripts/cycles.py marketplace plugins search   # prints each cycle; exit 1 if any
"""
import ast
import sys
from pathlib import Path

SKIP = {"migrations", "tests", "__pycache__", "node", "static", "templates"}


def modules(roots):
    """{module name: path} for the .py files under `roots` (paths relative to the cwd)."""
    found = {}
    for root in roots:
        root = Path(root)
        for path in root.rglob("*.py"):
            if SKIP & set(path.relative_to(root).parts[:-1]):
                continue
            name = ".".join(path.with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def edges(found):
    graph = {name: set() for name in found}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in found else base
                           for alias in node.names]
            for target in targets:
                while target and target not in found:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def strongly_connected(graph):
    """Tarjan's algorithm, iterative; groups of more than one module."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def find(*roots):
    """The import cycles among the modules under `roots`: a list of sorted module lists.
    Module names are taken from the paths as given, so run from the project's root."""
    import os

    here = os.getcwd()
    try:
        os.chdir(Path(roots[0]).resolve().parent)
        return strongly_connected(edges(modules([Path(r).name for r in roots])))
    finally:
        os.chdir(here)


def main(argv):
    roots = argv or ["marketplace", "plugins", "search"]
    groups = strongly_connected(edges(modules(roots)))
    for group in groups:
        print("cycle: " + " <-> ".join(group))
    print(f"{len(groups)} import cycles")
    return 1 if groups else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
