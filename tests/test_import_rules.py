"""The import rules of ARCHITECTURE.md ("What may import what"), enforced.

Why a test: the layout only tells a newcomer the truth while the code keeps it. Every module of
`matching/`, `validation/` and `pipelines/` is parsed (imports inside functions included), each is
mapped to its component, and an import from one component into another not listed as allowed
fails with the offending file and line. Also checked: no import cycle between modules (counting
function-level imports), Prefect and Great Expectations only where they belong, and every import
inside a function justified by a `lazy:` comment (a measured start-up cost).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("matching", "validation", "pipelines")

# Module prefix -> component; the longest prefix wins. Keep in step with ARCHITECTURE.md.
COMPONENTS = {
    "matching.reference": "reference",
    "matching.normalize": "normalizer",
    "matching.normalize.fold": "fold",
    "matching.sql": "sql",
    "matching.labels": "engine_labels",
    "matching.settings": "settings",
    "matching": "engine",
    "validation": "validation",
    "pipelines": "base",  # spec, registry folders, labels, formats, errors, progress, offline, private_files
    "pipelines.spec_files": "catalogue",
    "pipelines.catalogue": "catalogue",
    "pipelines.registries": "catalogue",
    "pipelines.ingest": "ingest",
    "pipelines.normalize": "normalize",
    "pipelines.match": "match",
    "pipelines.cluster": "cluster",
    "pipelines.decisions": "decisions",
    "pipelines.incremental": "decisions",  # the same memory of earlier runs: kept links, frozen model
    "pipelines.findings": "findings",
    "pipelines.warehouse": "warehouse",
    "pipelines.review": "review",
    "pipelines.reports": "reports",
    "pipelines.flow": "flow",
    "pipelines.orchestration": "orchestration",
    "pipelines.serve": "serve",
    "pipelines.clean": "clean",
    "pipelines.cli": "cli",
    "pipelines.sample": "sample",
}

# Modules that import no project code (data, names, settings, quoting): any component may use them.
LEAVES = {"reference", "settings", "engine_labels", "sql", "fold"}

# Component -> the components it may import besides LEAVES (itself always allowed). Data flows one
# way: ingest -> normalize -> validate -> match -> findings -> warehouse -> reports.
ALLOWED = {
    "reference": set(),
    "normalizer": {"reference"},
    "sql": set(),
    "fold": set(),
    "engine_labels": set(),
    "settings": set(),
    "engine": set(),
    "base": {"normalizer"},
    "catalogue": {"base", "engine"},
    "validation": {"base", "normalizer"},
    "ingest": {"base", "normalizer"},
    "normalize": {"base", "catalogue", "ingest", "normalizer", "engine", "validation", "warehouse"},
    "match": {"base", "engine", "warehouse"},
    "cluster": {"base", "engine"},
    "decisions": {"base", "warehouse"},
    "warehouse": {"base", "engine"},
    "findings": {"base", "catalogue", "validation", "normalizer", "warehouse"},
    "review": {"base", "catalogue", "ingest", "normalizer", "findings", "warehouse"},
    "reports": {"base", "catalogue", "normalizer", "findings", "warehouse"},
    "flow": {
        "base",
        "catalogue",
        "ingest",
        "normalize",
        "validation",
        "match",
        "cluster",
        "decisions",
        "findings",
        "warehouse",
        "review",
        "reports",
    },
    "orchestration": {"base", "catalogue", "flow", "cluster", "findings", "warehouse"},
    "serve": {"base"},
    "clean": {"base", "catalogue", "ingest", "normalize", "normalizer", "reports"},
    "cli": {"base", "catalogue", "flow", "clean", "reports", "serve", "sample", "warehouse"},
    "sample": {"base"},
}

# Third-party libraries with one home each: the engine stays free of orchestration and of GX.
ONLY_IN = {
    "prefect": {"orchestration"},
    "prefect_dask": {"orchestration"},
    "distributed": {"cluster"},
    "great_expectations": {"validation"},
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: Path
    line: int
    in_function: bool
    comment: str


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _resolve(name: str) -> str:
    """`pipelines.findings.coverage_frame` -> `pipelines.findings` (the module really imported)."""
    while name and name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _function_lines(tree: ast.AST) -> set[int]:
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {n.lineno for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return inside


def _edges() -> list[Edge]:
    edges = []
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        inside = _function_lines(tree)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            span = lines[node.lineno - 2 : (node.end_lineno or node.lineno)]  # the line above, too
            comment = " ".join(part.split("#", 1)[1] for part in span if "#" in part)
            for target in targets:
                edges.append(Edge(module, target, path, node.lineno, node.lineno in inside, comment))
    return edges


EDGES = _edges()


def component(module: str) -> str:
    best = max((p for p in COMPONENTS if module == p or module.startswith(p + ".")), key=len)
    return COMPONENTS[best]


def _where(e: Edge) -> str:
    return f"{e.path.relative_to(ROOT)}:{e.line}: {e.source} imports {e.target}"


def test_every_module_has_a_component():
    assert set(ALLOWED) == set(COMPONENTS.values()) and LEAVES <= set(ALLOWED)
    assert all(not ALLOWED[leaf] for leaf in LEAVES)  # a leaf imports no project code
    assert all(component(m) in ALLOWED for m in MODULES)


def test_components_import_only_what_the_architecture_allows():
    wrong = []
    for e in EDGES:
        if e.target.split(".")[0] not in PACKAGES:
            continue
        src, dst = component(e.source), component(_resolve(e.target))
        if src != dst and dst not in ALLOWED[src] and not (dst in LEAVES and src not in LEAVES):
            wrong.append(f"{_where(e)} ({src} -> {dst})")
    assert not wrong, "imports against ARCHITECTURE.md:\n" + "\n".join(wrong)


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_libraries_stay_in_their_home(library):
    wrong = [
        _where(e) for e in EDGES if e.target.split(".")[0] == library and component(e.source) not in ONLY_IN[library]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_counting_function_level_imports():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in EDGES:
        if e.target.split(".")[0] in PACKAGES:
            target = _resolve(e.target)
            if target != e.source and target in MODULES:
                graph[e.source].add(target)
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(
                    " -> ".join(stack[stack.index(nxt) :] + [node, nxt]) if nxt in stack else f"{node} -> {nxt}"
                )
            elif nxt not in state:
                visit(nxt, stack + [node])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_imports_inside_functions_say_why():
    """Imports belong at the top; a lazy one must name the start-up cost it avoids (`lazy:`)."""
    unexplained = [_where(e) for e in EDGES if e.in_function and "lazy:" not in e.comment]
    assert not unexplained, "imports inside functions without a `# lazy: <measured cost>` comment:\n" + "\n".join(
        unexplained
    )


def test_the_rules_can_fail(tmp_path):
    """The checker is not vacuous: a findings module importing the reports is caught."""
    edge = Edge("pipelines.findings.x", "pipelines.reports.excel", tmp_path / "x.py", 1, False, "")
    src, dst = component(edge.source), component(_resolve(edge.target))
    assert (src, dst) == ("findings", "reports") and dst not in ALLOWED[src]
    assert component("matching.normalize.names") == "normalizer"
    assert component("pipelines.land.owners") == "base"
