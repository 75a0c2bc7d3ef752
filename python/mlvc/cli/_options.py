"""Options several commands share, spelled once (DVC's flag names)."""

from __future__ import annotations

from typing import Annotated

import typer

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker threads (default: cores).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
