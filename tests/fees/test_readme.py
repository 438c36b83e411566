"""The README stays true: its Python example runs, and CI calls its test command."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text()


def test_python_library_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README shows the engine as a library"
    namespace: dict = {}
    exec(blocks[0], namespace)  # noqa: S102 - our own README
    assert namespace["result"].total_payment == Decimal("86.84")


def test_ci_runs_the_readme_test_command():
    command = (PROJECT / "scripts" / "test-command").read_text().strip()
    assert command in README
    ci = (PROJECT / ".ci" / "run").read_text()
    assert "scripts/test-command" in ci and 'bash -c "$TEST_CMD"' in ci
