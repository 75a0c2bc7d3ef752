"""Start-up stays light: the CLI module does not import rendering or parsing libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("rich", "yaml", "pydantic", "pygments")


def test_import_cli_pulls_in_nothing_heavy() -> None:
    code = f"import sys, mlvc.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""
