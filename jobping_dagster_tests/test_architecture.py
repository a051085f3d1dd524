"""Imports between stage packages point downstream: postings -> companies -> matching -> notify
-> account. A later stage may import an earlier one, never the reverse, directly or through a shared
top-level module (one that imports a later stage). Static: the files are parsed with `ast`,
nothing is imported, so imports inside functions and under TYPE_CHECKING count too."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import jobping_dagster

STAGES = ["postings", "companies", "matching", "notify", "account"]
ROOT = Path(jobping_dagster.__file__).parent


def _imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in the file, relative ones resolved."""
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _node(module: str) -> str | None:
    """The stage package or top-level module of `jobping_dagster` a module belongs to."""
    parts = module.split(".")
    if parts[0] != ROOT.name or len(parts) < 2:
        return None
    return parts[1]


def _file_node(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _import_edges() -> list[tuple[str, str, str]]:
    """(importing node, imported node, "file:line import") for every import in the package."""
    edges = []
    for path in sorted(ROOT.rglob("*.py")):
        for line, module in _imported_modules(path):
            target = _node(module)
            source = _file_node(path)
            if target is not None and target != source:
                where = f"{path.relative_to(ROOT)}:{line} imports {module}"
                edges.append((source, target, where))
    return edges


def _stages_reached(edges) -> dict[str, set[str]]:
    """For each node, the stage packages it reaches through any chain of imports."""
    graph = defaultdict(set)
    for source, target, _ in edges:
        graph[source].add(target)
    reached = {}
    for start in list(graph):
        seen, pending = set(), [start]
        while pending:
            for target in graph[pending.pop()] - seen:
                seen.add(target)
                pending.append(target)
        reached[start] = seen & set(STAGES)
    return reached


def _later(source: str, target: str) -> bool:
    return STAGES.index(target) > STAGES.index(source)


def test_no_stage_imports_a_later_stage():
    upstream = [
        where
        for source, target, where in _import_edges()
        if source in STAGES and target in STAGES and _later(source, target)
    ]
    assert upstream == [], "an earlier stage imports a later one:\n" + "\n".join(upstream)


def test_no_stage_reaches_a_later_stage_through_a_shared_module():
    edges = _import_edges()
    reached = _stages_reached(edges)
    indirect = [
        f"{where}, which reaches {', '.join(sorted(later))}"
        for source, target, where in edges
        if source in STAGES and target not in STAGES
        for later in [{stage for stage in reached.get(target, ()) if _later(source, stage)}]
        if later
    ]
    assert indirect == [], "an earlier stage reaches a later one:\n" + "\n".join(indirect)


def test_the_checker_sees_relative_and_function_level_imports(tmp_path):
    package = tmp_path / ROOT.name / "companies"
    package.mkdir(parents=True)
    (package / "x.py").write_text(
        "def f():\n    from ..notify import outbox\n    import jobping_dagster.matching.store\n"
    )
    assert _imported_modules(package / "x.py", tmp_path / ROOT.name) == [
        (2, "jobping_dagster.notify.outbox"),
        (3, "jobping_dagster.matching.store"),
    ]


# Dagster's own fault fixes (issue 8) that no public API allows, pinned by constraints.txt
# and each covered by a test that fails when Dagster changes under them: a code server that
# hung for ever when a run's worker froze, and runs its dead code server took with it.
PRIVATE_API_ALLOWED = {"code_server.py", "run_launcher.py"}


def test_production_code_uses_no_private_api_of_a_dependency():
    private = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(ROOT.rglob("*.py"))
        if str(path.relative_to(ROOT)) not in PRIVATE_API_ALLOWED
        for line, module in _imported_modules(path)
        if _node(module) is None
        and any(part.startswith("_") and part != "__future__" for part in module.split("."))
    ]
    assert private == [], "private API of a dependency:\n" + "\n".join(private)
