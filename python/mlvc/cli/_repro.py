"""`repro`: the body behind both ways of running it.

The typer command (`mlvc.cli.pipeline`) and the direct lane (`mlvc.cli._direct`)
call it with every parameter. Nothing here imports typer: a no-op `repro` is run
again and again by scripts, and typer's import with its parser was about a fifth
of its time on a small pipeline.
"""

from __future__ import annotations

from mlvc.cli._errors import handled
from mlvc.cli._output import say, warn


def _confirm(statement: str) -> bool:
    """DVC-compat: `repro -i` asks `[y/n] ` only on a terminal; end of input means no."""
    from mlvc.cli._prompt import confirm

    return bool(confirm(statement, suffix=" [y/n]", needs_tty=True))


@handled()
def run_repro(
    *,
    targets: list[str] | None,
    force: bool,
    interactive: bool,
    single_item: bool,
    downstream: bool,
    pipeline: bool,
    all_pipelines: bool,
    force_downstream: bool,
    recursive: bool,
    glob: bool,
    dry: bool,
    keep_going: bool,
    ignore_errors: bool,
    no_commit: bool,
    allow_missing: bool,
    pull: bool,
    no_run_cache: bool,
    jobs: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Runs the stages whose command, deps, params or outputs changed."""
    from mlvc.cli._errors import broken_files_exit_255
    from mlvc.ops.repro import repro
    from mlvc.repo import Repo

    repo = Repo.find()
    # DVC-compat: `core.interactive` turns `-i` on for every repro.
    interactive = interactive or repo.config.get_bool("core", "interactive")
    with broken_files_exit_255():
        result = repro(
            repo,
            targets or [],
            force=force,
            single_item=single_item,
            downstream=downstream,
            whole_pipeline=pipeline,
            all_pipelines=all_pipelines,
            recursive=recursive,
            glob=glob,
            dry=dry,
            keep_going=keep_going,
            ignore_errors=ignore_errors,
            force_downstream=force_downstream,
            no_commit=no_commit,
            allow_missing=allow_missing,
            run_cache=not no_run_cache,
            jobs=jobs,
            echo=(lambda s: None) if quiet else (lambda s: say(False, s)),
            warn=(lambda s: None) if quiet else warn,
            confirm=_confirm if interactive else None,
            pull=pull,
        )
    if not dry:
        from mlvc.cli._gitstage import stage_or_hint

        stage_or_hint(repo, result.to_stage, quiet)
    if result.ran or result.restored:
        say(quiet, "Use `mlvc push` to send your updates to remote storage.\n")
    elif not result.to_stage:
        say(quiet, "Data and pipelines are up to date.\n")
