"""The structure docs/architecture.md describes, checked on the source tree (no Django needed).

- no import circle between modules (module-level imports; function-local ones must say why they are local);
- the pure layers stay pure: the pricing engine and the CMS parsers import no Django and no app;
- imports go down the layers: a lower app never imports a higher one (fees → codes, accounts → benchmarks,
  codes → logbook were seams that drifted);
- no module grows past 800 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "rvuedge"
MAX_LINES = 800

#: Apps from the bottom up: each may import those listed before it, never one after it.
LAYERS = ["pricing", "fees", "accounts", "codes", "logbook", "benchmarks"]
#: Pure modules: standard library, third-party calculation libraries and their own package only.
PURE = {"rvuedge.pricing": ("rvuedge.pricing",), "rvuedge.fees.parsers": ("rvuedge.fees.parsers", "rvuedge.pricing")}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _targets(module: str, node) -> list[str]:
    """The project modules an import statement loads (``from x import y`` may name a submodule y)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = _resolve(module, node)
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            out.append(name)
    return out


def _imports(module: str) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, bool]]]:
    """(module-level imports as (line, target, statement), function-local imports as (line, text, has_reason))."""
    source = MODULES[module].read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    local_nodes = set()
    local = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in local_nodes:
                    local_nodes.add(id(node))
                    local.append((node.lineno, lines[node.lineno - 1].strip(), _explained(lines, node.lineno)))
    top = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in local_nodes:
            if _is_type_checking_only(tree, node):
                continue
            for target in _targets(module, node):
                top.append((node.lineno, target, lines[node.lineno - 1].strip()))
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top.append((node.lineno, f"<ext>{alias.name}", ""))
            elif not node.level:
                top.append((node.lineno, f"<ext>{node.module}", ""))
    return top, local


def _explained(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or on a line just above its block of imports."""
    if "#" in lines[lineno - 1]:
        return True
    for line in reversed(lines[:lineno - 1]):
        text = line.strip()
        if text.startswith("#"):
            return True
        if not (text == "" or text.startswith(("from ", "import ")) or text.endswith((",", "(")) or text == ")"):
            return False
    return False


def _is_type_checking_only(tree, node) -> bool:
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test):
            if any(child is node for stmt in block.body for child in ast.walk(stmt)):
                return True
    return False


def _graph() -> dict[str, set[str]]:
    return {m: {t for _, t, _ in _imports(m)[0] if not t.startswith("<ext>")} for m in MODULES}


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_import_circle():
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            # A package importing its own submodules (``__init__`` re-exports) is not a circle.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_function_local_imports_say_why():
    silent = []
    for module, path in MODULES.items():
        for line, text, has_reason in _imports(module)[1]:
            if not has_reason:
                silent.append(f"{path.relative_to(ROOT.parent)}:{line}: {text}")
    assert not silent, ("function-local imports without a one-line reason (hoist them, or say why they are "
                        "local):\n" + "\n".join(silent))


@pytest.mark.parametrize("package", sorted(PURE))
def test_pure_layers_import_no_django_and_no_app(package):
    allowed = PURE[package]
    bad = []
    for module in MODULES:
        if module != package and not module.startswith(package + "."):
            continue
        top, local = _imports(module)
        for line, target, _ in top:
            name = target.removeprefix("<ext>")
            if name.split(".")[0] == "django" or (name.startswith("rvuedge") and not name.startswith(allowed)):
                bad.append(f"{module}:{line} imports {name}")
        for line, text, _ in local:
            if "django" in text.split() or any(w.startswith("django.") for w in text.split()):
                bad.append(f"{module}:{line} {text}")
    assert not bad, "\n".join(bad)


def test_imports_go_down_the_layers():
    against = []
    for module in MODULES:
        app = _app(module)
        if app is None:
            continue
        source = MODULES[module].read_text(encoding="utf-8")
        tree = ast.parse(source)
        for node in ast.walk(tree):  # local imports too: hiding an import in a function is no seam
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in dict.fromkeys(_targets(module, node)):
                other = _app(target)
                if other and LAYERS.index(other) > LAYERS.index(app):
                    against.append(f"{module}:{node.lineno} ({app}) imports {target} ({other})")
                    break
    assert not against, "imports against the layers " + " < ".join(LAYERS) + ":\n" + "\n".join(against)


def test_no_module_over_800_lines():
    big = {str(p.relative_to(ROOT.parent)): n for p in MODULES.values()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, big
