"""Pipeline commands: repro, stage, dag, freeze, unfreeze."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlvc.cli._errors import handled
from mlvc.cli._options import Quiet, Verbose


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        sys.stdout.write(text)
        sys.stdout.flush()


def _git_add_hint(repo: object, paths: list[Path], quiet: bool) -> None:
    from mlvc.repo import Repo

    assert isinstance(repo, Repo)
    if not paths:
        return
    if repo.config.get_bool("core", "autostage") and repo.scm is not None:
        subprocess.run(["git", "add", "--", *map(str, paths)], cwd=repo.root, check=True)
        return
    names = " ".join(shlex.quote(repo.relpath(p)) for p in paths)
    _say(
        quiet,
        "\nTo track the changes with git, run:\n\n"
        f"\tgit add {names}\n\n"
        "To enable auto staging, run:\n\n"
        "\tmlvc config core.autostage true\n",
    )


def register(app: typer.Typer) -> None:
    """Adds the commands to the app."""

    @app.command("repro")
    @handled()
    def repro_command(
        targets: Annotated[
            list[str] | None,
            typer.Argument(help="Stages or `dvc.yaml` files (default: ./dvc.yaml)."),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Run even stages that did not change.")
        ] = False,
        single_item: Annotated[
            bool, typer.Option("--single-item", "-s", help="Only the targets, not their upstream.")
        ] = False,
        downstream: Annotated[
            bool, typer.Option("--downstream", help="The targets and the stages that follow them.")
        ] = False,
        pipeline: Annotated[
            bool, typer.Option("--pipeline", "-p", help="The whole pipelines of the targets.")
        ] = False,
        all_pipelines: Annotated[
            bool, typer.Option("--all-pipelines", "-P", help="Every pipeline of the repository.")
        ] = False,
        dry: Annotated[
            bool, typer.Option("--dry", help="Print what would run; change nothing.")
        ] = False,
        keep_going: Annotated[
            bool,
            typer.Option("--keep-going", "-k", help="After a failure, finish independent stages."),
        ] = False,
        allow_missing: Annotated[
            bool,
            typer.Option("--allow-missing", help="Skip stages whose only change is missing data."),
        ] = False,
        pull: Annotated[
            bool, typer.Option("--pull", help="Fetch missing deps and cached runs from the remote.")
        ] = False,
        no_run_cache: Annotated[
            bool, typer.Option("--no-run-cache", help="Do not restore outputs of recorded runs.")
        ] = False,
        jobs: Annotated[
            int, typer.Option("--jobs", "-j", min=1, help="Stages to run at once (default 1).")
        ] = 1,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Run the stages whose command, deps, params or outputs changed."""
        from mlvc.ops.repro import repro
        from mlvc.repo import Repo

        repo = Repo.find()
        if pull:
            from mlvc.ops.repro import pull_missing

            pull_missing(repo, targets or [], all_pipelines=all_pipelines)
        result = repro(
            repo,
            targets or [],
            force=force,
            single_item=single_item,
            downstream=downstream,
            whole_pipeline=pipeline,
            all_pipelines=all_pipelines,
            dry=dry,
            keep_going=keep_going,
            allow_missing=allow_missing,
            run_cache=not no_run_cache,
            jobs=jobs,
            echo=(lambda s: None) if quiet else (lambda s: _say(False, s)),
        )
        if dry:
            return
        _git_add_hint(repo, result.to_stage, quiet)
        if result.ran or result.restored:
            _say(quiet, "Use `mlvc push` to send your updates to remote storage.\n")
        elif not result.to_stage:
            _say(quiet, "Data and pipelines are up to date.\n")
