"""After a command changes files git tracks: stage them (`core.autostage`) or say how."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlvc.repo import Repo


def stage_or_hint(repo: Repo, paths: list[Path], quiet: bool) -> None:
    """Runs `git add` on `paths` with `core.autostage`, or prints the command to run.

    DVC-compat: the advice names the files relative to the current directory, so the
    command can be pasted as is; without git there is nothing to say.
    """
    unique = list(dict.fromkeys(paths))
    if not unique or repo.scm is None:
        return
    if repo.config.get_bool("core", "autostage"):
        import subprocess  # here: most commands end with nothing to stage

        # A deleted path can be staged only if git tracked it; otherwise `git add` fails.
        r = subprocess.run(
            ["git", "ls-files", "-z", "--", *map(str, unique)],
            cwd=repo.root,
            capture_output=True,
            check=True,
        )
        listed = r.stdout.decode("utf-8", "surrogateescape").split("\0")
        tracked = {repo.root / n for n in listed if n}
        stage = [p for p in unique if p.exists() or p in tracked]
        if stage:
            subprocess.run(
                ["git", "add", "--all", "--", *map(str, stage)], cwd=repo.root, check=True
            )
        return
    if quiet:
        return
    import shlex

    names = " ".join(shlex.quote(os.path.relpath(p)) for p in unique)
    sys.stdout.write(
        "\nTo track the changes with git, run:\n\n"
        f"\tgit add {names}\n\n"
        "To enable auto staging, run:\n\n"
        "\tmlvc config core.autostage true\n"
    )
