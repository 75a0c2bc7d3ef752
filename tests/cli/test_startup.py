"""Start-up stays light: the CLI module does not import rendering or parsing libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("rich", "yaml", "pydantic", "pygments")


def test_import_cli_pulls_in_nothing_heavy() -> None:
    code = f"import sys, mlvc.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def test_command_table_matches_what_modules_register() -> None:
    code = (
        "import mlvc.cli as c, typer.main as tm; "
        "c.register(); "
        "print(' '.join(sorted(tm.get_command(c.app).commands)))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from mlvc.cli import COMMAND_MODULES

    assert r.stdout.split() == sorted(COMMAND_MODULES)


def test_a_command_registers_only_its_module() -> None:
    code = (
        "import sys, mlvc.cli as c; c.register('hash'); "
        "print(sorted(m for m in sys.modules if m.startswith('mlvc.cli.')))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "mlvc.cli.hashing" in r.stdout and "mlvc.cli.remote" not in r.stdout
