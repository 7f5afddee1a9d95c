"""The import rule of docs/architecture.md: layers import only downwards (or within their layer), there is
no import circle, and imports of moodtune inside functions appear only in the registry and CLI dispatcher."""

import ast
from pathlib import Path

import moodtune

SRC = Path(moodtune.__file__).parent

#: Layer of each top-level module or subpackage; a module may import its own layer and those below.
LAYERS = {
    "__init__": 0, "errors": 0, "fsutil": 0, "progress": 0, "mood": 0, "labels": 0, "registry": 0,
    "shipped": 0,
    "audio": 1, "midi": 1, "viz": 1, "cards": 1,
    "data": 2,
    "models": 3,
    "engines": 4,
    "training": 5,
    "evaluation": 6,
    "api": 7, "demo": 7, "catalog": 7, "showcase": 7,
    "cli": 8, "__main__": 8, "server": 8,
}  # fmt: skip

LAZY_ALLOWED = {"moodtune.registry", "moodtune.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def resolve(name: str, modules: set[str]) -> str | None:
    """The moodtune module an import names (a submodule when ``from package import submodule``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(path: Path, modules: set[str]) -> tuple[list[str], list[str]]:
    """``(module-level imports, imports inside functions)`` of moodtune modules in a file."""
    tree = ast.parse(path.read_text())
    top, lazy = [], []

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found = [resolve(f"{node.module}.{a.name}", modules) for a in node.names]
        elif isinstance(node, ast.Import):
            found = [resolve(a.name, modules) for a in node.names]
        else:
            return []
        return [n for n in found if n and n.startswith("moodtune")]

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                (lazy if in_function else top).extend(names(child))
            walk(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    walk(tree, False)
    return top, lazy


def graph() -> dict[str, tuple[list[str], list[str]]]:
    files = {module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(files)
    return {m: imports(p, modules) for m, p in files.items()}


def test_every_module_has_a_layer():
    for module in graph():
        assert layer(module) >= 0, module


def test_imports_go_one_way():
    upward = [
        f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
        for m, (top, lazy) in graph().items()
        for t in top + lazy
        if layer(t) > layer(m)
    ]
    assert upward == []


def test_no_import_circle():
    g = {m: [t for t in top if t != m] for m, (top, _) in graph().items()}
    state: dict[str, int] = {}
    circles = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in g.get(m, []):
            if state.get(t) == 1:
                circles.append(" -> ".join([*stack[stack.index(t) :], t]))
            elif t not in state:
                visit(t, [*stack, t])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    assert circles == []


def test_lazy_imports_only_in_the_registry_and_cli_dispatcher():
    lazy = {m: sorted(set(lz)) for m, (_, lz) in graph().items() if lz and m not in LAZY_ALLOWED}
    assert lazy == {}


def test_the_rule_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from moodtune.api import open_engine\n\ndef f():\n    from moodtune.cli import main\n")
    top, lazy = imports(bad, set(graph()))
    assert top == ["moodtune.api"] and lazy == ["moodtune.cli"]
    assert layer("moodtune.api") > layer("moodtune.data.manifest")
