"""Writes to the log go through rvuedge/logbook/actions.py only.

Views, API routers and management commands parse input and render output; every insert, update or delete of a
log row (encounters, their lines, favourites, import batches, employer reports) is a ``do_*`` function in
``actions``. This test reads the source of every module that handles requests or commands and fails on an ORM
write or on a call of the lower-level writers (``imports.commit_import``, ``backup.restore``) outside ``actions``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rvuedge

ROOT = Path(rvuedge.__file__).parent
LOG_MODELS = {"Encounter", "EncounterLine", "LineModel", "Favourite", "ImportBatch", "EmployerReport"}
ORM_WRITES = {"create", "bulk_create", "update", "delete", "get_or_create", "update_or_create", "bulk_update",
              "save"}
LOW_LEVEL_WRITERS = {"commit_import", "restore", "store_bulk", "claim_batch", "purge_uploads"}


def _entry_modules() -> list[Path]:
    mods = list(ROOT.glob("*/views.py")) + list(ROOT.glob("*/api.py")) + [ROOT / "api.py", ROOT / "cli.py"]
    mods += list(ROOT.glob("*/management/commands/*.py"))
    return sorted(p for p in mods if p.exists() and p.name != "__init__.py")


def _chain_names(node: ast.AST) -> list[str]:
    """The names along an attribute/call chain, outermost last: Encounter.objects.filter(...).update -> [...]."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def writes_in(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        chain = _chain_names(node.func)
        method = node.func.attr
        if method in ORM_WRITES and chain and chain[0] in LOG_MODELS:
            found.append(f"line {node.lineno}: {'.'.join(chain)}()")
        if method in LOW_LEVEL_WRITERS and chain and chain[0] in {"imports", "backup"}:
            found.append(f"line {node.lineno}: {'.'.join(chain)}()")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(("logbook.imports",
                                                                                        "logbook.backup")):
            for alias in node.names:
                if alias.name in LOW_LEVEL_WRITERS:
                    found.append(f"line {node.lineno}: imports {alias.name} from {node.module}")
    return found


@pytest.mark.parametrize("path", _entry_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_view_api_or_command_writes_the_log(path):
    assert writes_in(path.read_text()) == [], (
        f"{path.relative_to(ROOT)} writes to the log directly; add a do_* function to logbook/actions.py")


def test_the_check_catches_direct_writes():
    """The scanner itself: each of these would be a violation in a view."""
    assert writes_in("Encounter.objects.create(user=u)")
    assert writes_in("ImportBatch.objects.filter(pk=1).exclude(status='done').update(status='x')")
    assert writes_in("EmployerReport.objects.filter(user=u, pk=pk).delete()")
    assert writes_in("imports.commit_import(u, p, 'csv', b'', {})")
    assert writes_in("backup.restore(u, p, data)")
    assert writes_in("from rvuedge.logbook.backup import parse_backup, restore")
    assert writes_in("Encounter.objects.filter(user=u).count()") == []
    assert writes_in("actions.do_confirm_import(u, p, b, m)") == []


def test_actions_is_the_one_writer_and_checks_the_entry_modules():
    assert (ROOT / "logbook" / "views.py") in _entry_modules()
    assert (ROOT / "logbook" / "api.py") in _entry_modules()
    assert (ROOT / "logbook" / "management" / "commands" / "logbook.py") in _entry_modules()
