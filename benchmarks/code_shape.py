"""The shape of the code: imports between stage packages, and the largest files and functions.

    .venv/bin/python benchmarks/code_shape.py [--root jobping_dagster]

A before/after figure for a redesign. Nodes are the subpackages of the root (the stages
postings -> companies -> matching -> notify, plus users, llm, db) and each top-level module
`root/X.py` as node `X` (`root/__init__.py` is node `__init__`). Every `import` and
`from ... import` statement counts once per node it reaches, relative ones resolved against
the file's package; imports inside functions and under `if TYPE_CHECKING:` count too, and are
marked, since a lazy import is often how a cycle is hidden.

Imports point downstream: a later stage may import an earlier one (notify imports matching),
an earlier stage must never import a later one (companies importing matching is an upstream
edge). Also prints cycles between nodes (strongly connected components of more than one
node). Static only, standard library only. Last line JSON.
"""

import argparse
import ast
import json
from collections import defaultdict
from pathlib import Path

STAGES = ["postings", "companies", "matching", "notify"]
EXAMPLES_PER_EDGE = 3
FILE_LINES_LIMIT = 300
FUNCTION_LINES_LIMIT = 60
FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)


def node_of(module: str, root_dir: Path) -> str | None:
    """The node a dotted module name belongs to, or None when outside the root package."""
    parts = module.split(".")
    if parts[0] != root_dir.name:
        return None
    # `from root import name` where name is neither a subpackage nor a module is __init__'s.
    name = parts[1] if len(parts) > 1 else "__init__"
    return name if (root_dir / name).is_dir() or (root_dir / f"{name}.py").exists() else "__init__"


def import_statements(tree: ast.Module, package: str):
    """Yield (line, modules, in a function, under TYPE_CHECKING) for each import statement."""

    def visit(node: ast.AST, in_function: bool, type_checking: bool):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names], in_function, type_checking
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `.` is the file's package, each further dot one up
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` may import the module pkg.mod, so keep the name.
            modules = [f"{base}.{alias.name}" for alias in node.names]
            yield node.lineno, modules, in_function, type_checking
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                yield from visit(child, in_function, True)
            for child in node.orelse:
                yield from visit(child, in_function, type_checking)
        else:
            inside = in_function or isinstance(node, FUNCTION_NODES)
            for child in ast.iter_child_nodes(node):
                yield from visit(child, inside, type_checking)

    yield from visit(tree, False, False)


def functions_with_qualnames(node: ast.AST, prefix: str = ""):
    """Yield (qualified name, function node) for every function and method, nested included."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, FUNCTION_NODES + (ast.ClassDef,)):
            if isinstance(child, FUNCTION_NODES):
                yield f"{prefix}{child.name}", child
            yield from functions_with_qualnames(child, f"{prefix}{child.name}.")
        else:
            yield from functions_with_qualnames(child, prefix)


def cycles_of(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    index, lowlink, stack, components = {}, {}, [], []

    def connect(node: str):
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(components)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="jobping_dagster", help="the package directory")
    root_dir = Path(parser.parse_args().root)

    edges: dict[tuple[str, str], list[tuple[str, bool, bool]]] = defaultdict(list)
    file_lines, function_lines = [], []
    for path in sorted(root_dir.rglob("*.py")):
        source = path.read_text()
        tree = ast.parse(source, filename=str(path))
        relative = path.relative_to(root_dir.parent)
        module_parts = list(relative.with_suffix("").parts)
        package = ".".join(module_parts if path.name == "__init__.py" else module_parts[:-1])
        own_node = node_of(".".join(module_parts), root_dir)
        file_lines.append((str(relative), len(source.splitlines())))
        for qualname, function in functions_with_qualnames(tree):
            length = function.end_lineno - function.lineno + 1
            function_lines.append((qualname, str(relative), function.lineno, length))
        for line, modules, in_function, type_checking in import_statements(tree, package):
            targets = {node_of(module, root_dir) for module in modules} - {None, own_node}
            for target in sorted(targets):
                edges[own_node, target].append((f"{relative}:{line}", in_function, type_checking))

    print(f"Imports between nodes of {root_dir}/ (importer -> imported, one per statement):")
    for (source, target), sites in sorted(edges.items()):
        lazy = sum(in_function for _, in_function, _ in sites)
        guarded = sum(type_checking for *_, type_checking in sites)
        notes = f", {lazy} inside functions" if lazy else ""
        notes += f", {guarded} under TYPE_CHECKING" if guarded else ""
        examples = [site for site, *_ in sites[:EXAMPLES_PER_EDGE]]
        examples += ["..."] if len(sites) > EXAMPLES_PER_EDGE else []
        print(f"  {source} -> {target} ({len(sites)} imports{notes}: {', '.join(examples)})")

    rank = {stage: position for position, stage in enumerate(STAGES)}
    upstream = [
        (source, target)
        for source, target in sorted(edges)
        if source in rank and target in rank and rank[target] > rank[source]
    ]
    print(f"\nUpstream edges (an earlier stage importing a later one; {' -> '.join(STAGES)}):")
    for source, target in upstream:
        print(f"  {source} -> {target} ({len(edges[source, target])} imports)")
    if not upstream:
        print("  none")
    upstream_edges = [f"{source}->{target}" for source, target in upstream]

    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    cycles = cycles_of(graph)
    print("\nCycles (strongly connected components of more than one node):")
    print("\n".join(f"  {', '.join(cycle)}" for cycle in cycles) or "  none")

    largest_files = sorted(file_lines, key=lambda item: -item[1])[:10]
    print("\nLargest files (lines):")
    print("\n".join(f"  {lines:5}  {path}" for path, lines in largest_files))
    largest_functions = sorted(function_lines, key=lambda item: -item[3])[:15]
    print("\nLargest functions and methods (lines):")
    print(
        "\n".join(f"  {n:5}  {name}  ({path}:{line})" for name, path, line, n in largest_functions)
    )
    files_over = sum(lines > FILE_LINES_LIMIT for _, lines in file_lines)
    functions_over = sum(lines > FUNCTION_LINES_LIMIT for *_, lines in function_lines)
    print(f"\nFiles over {FILE_LINES_LIMIT} lines: {files_over} of {len(file_lines)}")
    print(f"Functions over {FUNCTION_LINES_LIMIT} lines: {functions_over} of {len(function_lines)}")

    summary = {
        "edges": {
            f"{source}->{target}": len(sites) for (source, target), sites in sorted(edges.items())
        },
        "upstream_edges": upstream_edges,
        "cycles": cycles,
        "largest_files": [list(item) for item in largest_files],
        "largest_functions": [[name, path, n] for name, path, _, n in largest_functions],
        "files_over_300": files_over,
        "functions_over_60": functions_over,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
