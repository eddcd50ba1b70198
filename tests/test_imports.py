"""The module graph of newsgen: imports go one way. No module imports one that imports it back
(a circle makes import order matter and hides which stage depends on which), and no stage
imports a later one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "newsgen"
# The pipeline's stages in order: each may import only earlier ones. NO_STAGE: shared rules
# that import no stage at all.
STAGES = ["records", "markup", "frontmatter", "load", "enrich", "collect", "plan", "render"]
NO_STAGE = {"slugs": STAGES, "write": [*STAGES, "cache", "config"]}


def imports() -> dict[str, set[str]]:
    """Every newsgen module a module imports, at its top or inside a function."""
    graph = {}
    for file in sorted(PACKAGE.glob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "newsgen":
                names |= {alias.name for alias in node.names if alias.name != "__version__"}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("newsgen."):
                names.add(str(node.module).split(".")[1])
            elif isinstance(node, ast.Import):
                names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("newsgen.")}
        graph[file.stem] = names - {file.stem}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                found.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_graph_is_read_from_every_module() -> None:
    graph = imports()
    assert {"build", "publish", "incremental", "slugs"} <= graph.keys()
    assert graph["build"] >= {"collect", "plan", "publish", "incremental"}


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert circles(imports()) == []


def test_a_circle_is_found() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_a_later_one(stage: str) -> None:
    later = set(STAGES[STAGES.index(stage) + 1 :])
    assert imports()[stage] & later == set()


@pytest.mark.parametrize("module", sorted(NO_STAGE))
def test_the_shared_rules_import_no_stage(module: str) -> None:
    assert imports()[module] & set(NO_STAGE[module]) == set()


# The pure stages: what each may read besides the standard library and its packages.
PURE = {
    "load": {"records", "markup", "frontmatter"},
    "enrich": {"records", "markup", "slugs", "langmodel"},
    "plan": {"records", "slugs", "related"},
    "related": {"records"},
}


@pytest.mark.parametrize("stage", sorted(PURE))
def test_a_pure_stage_imports_only_records_and_rules(stage: str) -> None:
    assert imports()[stage] <= PURE[stage]
