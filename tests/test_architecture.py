"""The shape of the code: imports flow one way, no cycles, small blocks, modules of one job.

- The import-linter layers contract in pyproject.toml ([tool.importlinter]) holds: each layer
  imports only the layers below it (cli -> console -> jobs -> apply -> plan -> pipeline -> report
  -> shacl | donl -> dcat -> source -> store | config -> errors | version).
- No module imports itself back through others (no cycles, inside a package either).
- radon ranks no block E or F, and at most five D.
- No module is over 600 lines unless its docstring says why, in a paragraph starting "Size:".
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
from radon.complexity import cc_rank, cc_visit

PACKAGE = Path(__file__).resolve().parents[1] / "harvester"
MAX_LINES = 600
MAX_D_BLOCKS = 5


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_imports_flow_down_the_layers(repo_dir: Path):
    # in a process of its own: import-linter reconfigures logging (disabling existing loggers)
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache",
               "--config", str(repo_dir / "pyproject.toml")]
    run = subprocess.run(command, cwd=repo_dir, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    graph = grimp.build_graph("harvester", exclude_type_checking_imports=False)
    assert _cycles(graph) == []


def test_no_block_is_too_complex():
    ranked: dict[str, list[str]] = {"D": [], "E": [], "F": []}
    for path in _modules():
        for block in cc_visit(path.read_text(encoding="utf-8")):
            rank = cc_rank(block.complexity)
            if rank in ranked:
                ranked[rank].append(f"{path.relative_to(PACKAGE.parent)}:{block.lineno} "
                                    f"{block.name} ({block.complexity})")
    assert ranked["E"] + ranked["F"] == []
    assert len(ranked["D"]) <= MAX_D_BLOCKS, ranked["D"]


def test_long_modules_say_why():
    unexplained = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        docstring = "\n" + (ast.get_docstring(ast.parse(text)) or "")
        if lines > MAX_LINES and "\nSize:" not in docstring:
            unexplained.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    assert unexplained == []
