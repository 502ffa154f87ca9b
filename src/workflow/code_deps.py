"""The source files a stage's code is made of, read from the imports: its rule's code inputs.

A rule's entry points (e.g. `src.training.launch` and `src.training.sft`) import other modules of this
package; every file they run (imports under `if TYPE_CHECKING:` are never run), plus the declarations of
the params sections their stage reads (src/params/stages.py), is declared as an input of the rule
(rules/*.smk: `code=code(...)`), so an edit to a file reruns exactly the stages that run it, in
Snakemake (mtime) and in DVC (dvc.yaml's deps, exported from the rules). Validation is planning's
(src/params/check.py): no job runs it, so no job depends on it.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository


def _file(module: str) -> Path | None:
    path = ROOT / Path(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _executed(tree: ast.AST):
    """Every node, except those under `if TYPE_CHECKING:` (imports for annotations, never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)


def _imports(module: str, path: Path) -> set[str]:
    """Modules of this package that `module` imports (absolute names)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in _executed(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "src"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "src":
                continue
            submodules = {f"{target}.{a.name}" for a in node.names if _file(f"{target}.{a.name}")}
            out |= submodules if node.module is None else submodules | {target}  # `from .. import x`: just x
    return {m for m in out if _file(m)}


@lru_cache(maxsize=None)
def module_files(module: str) -> tuple[str, ...]:
    """Every source file `module` runs: itself and what it imports of this package, transitively."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo += sorted(_imports(m, _file(m)) - seen)
    files = {_file(m).relative_to(ROOT).as_posix() for m in seen}
    files = {f for f in files if not (f.endswith("__init__.py") and _only_docstring(ROOT / f))}
    return tuple(sorted(files))


def _only_docstring(path: Path) -> bool:
    """A package's __init__.py that runs nothing (empty, or its docstring only): not a code input."""
    body = ast.parse(path.read_text()).body
    return not body or (len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant))


def code(*modules: str, stage: str | None = None) -> list[str]:
    """The code inputs of a rule that runs these entry points; with its stage (src/params/stages.py STAGES), also
    the declarations of the params sections the stage reads, which `stages.load` imports by name."""
    from ..params.stages import section_modules
    modules += tuple(section_modules(stage)) if stage else ()
    return sorted({f for m in modules for f in module_files(m)})
