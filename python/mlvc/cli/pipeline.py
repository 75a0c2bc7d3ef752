"""Pipeline commands: repro, stage, dag, freeze, unfreeze."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from mlvc.cli import blank_means_all
from mlvc.cli._errors import handled
from mlvc.cli._options import Quiet, Verbose
from mlvc.cli._output import say as _say


def register(app: typer.Typer) -> None:
    """Adds the commands to the app."""

    @app.command("repro")
    def repro_command(
        targets: Annotated[
            list[str] | None,
            typer.Argument(help="Stages, `dvc.yaml` or `.dvc` files (default: ./dvc.yaml)."),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Run even stages that did not change.")
        ] = False,
        interactive: Annotated[
            bool,
            typer.Option("--interactive", "-i", help="Ask before reproducing each stage."),
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
        force_downstream: Annotated[
            bool,
            typer.Option(
                "--force-downstream",
                help="Run everything downstream of a stage that ran, changed or not.",
            ),
        ] = False,
        recursive: Annotated[
            bool,
            typer.Option("--recursive", "-R", help="A directory target: every stage below it."),
        ] = False,
        glob: Annotated[
            bool, typer.Option("--glob", help="Stage names in targets are shell patterns.")
        ] = False,
        dry: Annotated[
            bool, typer.Option("--dry", help="Print what would run; change nothing.")
        ] = False,
        keep_going: Annotated[
            bool,
            typer.Option("--keep-going", "-k", help="After a failure, finish independent stages."),
        ] = False,
        ignore_errors: Annotated[
            bool,
            typer.Option(
                "--ignore-errors", help="After a failure, go on with every stage; exit 0."
            ),
        ] = False,
        no_commit: Annotated[
            bool,
            typer.Option("--no-commit", help="Record outputs in `dvc.lock` but do not cache them."),
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
        from mlvc.cli._repro import run_repro

        run_repro(
            targets=targets,
            force=force,
            interactive=interactive,
            single_item=single_item,
            downstream=downstream,
            pipeline=pipeline,
            all_pipelines=all_pipelines,
            force_downstream=force_downstream,
            recursive=recursive,
            glob=glob,
            dry=dry,
            keep_going=keep_going,
            ignore_errors=ignore_errors,
            no_commit=no_commit,
            allow_missing=allow_missing,
            pull=pull,
            no_run_cache=no_run_cache,
            jobs=jobs,
            quiet=quiet,
            verbose=verbose,
        )

    stage_app = typer.Typer(
        name="stage",
        help="Add and list pipeline stages.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    app.add_typer(stage_app, name="stage")

    @stage_app.command(
        "add",
        # DVC-compat: everything after the first word of the command belongs to it.
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    )
    @handled()
    def stage_add_command(
        # DVC-compat: a required option; without it the usage error exits 254.
        name: Annotated[str, typer.Option("--name", "-n", help="Name of the stage.")],
        command: Annotated[
            list[str] | None, typer.Argument(help="The command to run, with its arguments.")
        ] = None,
        deps: Annotated[
            list[str] | None, typer.Option("--deps", "-d", help="A dependency (repeatable).")
        ] = None,
        params: Annotated[
            list[str] | None,
            typer.Option(
                "--params", "-p", metavar="[FILE:]KEYS", help="Params the stage depends on."
            ),
        ] = None,
        outs: Annotated[
            list[str] | None, typer.Option("--outs", "-o", help="An output (cached).")
        ] = None,
        outs_no_cache: Annotated[
            list[str] | None,
            typer.Option("--outs-no-cache", "-O", help="An output kept out of the cache."),
        ] = None,
        outs_persist: Annotated[
            list[str] | None,
            typer.Option("--outs-persist", help="An output not removed before a run."),
        ] = None,
        outs_persist_no_cache: Annotated[
            list[str] | None,
            typer.Option("--outs-persist-no-cache", help="A persistent output, not cached."),
        ] = None,
        metrics: Annotated[
            list[str] | None, typer.Option("--metrics", "-m", help="A metrics file.")
        ] = None,
        metrics_no_cache: Annotated[
            list[str] | None,
            typer.Option("--metrics-no-cache", "-M", help="A metrics file, not cached."),
        ] = None,
        plots: Annotated[list[str] | None, typer.Option("--plots", help="A plots file.")] = None,
        plots_no_cache: Annotated[
            list[str] | None,
            typer.Option("--plots-no-cache", help="A plots file, not cached."),
        ] = None,
        wdir: Annotated[
            str | None, typer.Option("--wdir", "-w", help="Directory to run the command in.")
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Overwrite a stage of the same name.")
        ] = False,
        run: Annotated[bool, typer.Option("--run", help="Run the stage once added.")] = False,
        always_changed: Annotated[
            bool, typer.Option("--always-changed", help="Always consider the stage changed.")
        ] = False,
        desc: Annotated[str | None, typer.Option("--desc", help="A description.")] = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Add a stage to `dvc.yaml` (keeping the file's comments and layout)."""
        from mlvc.ops.stage_add import (
            StageSpec,
            add_stage,
            ignore_outputs,
            join_command,
            unignore_outputs,
        )
        from mlvc.repo import Repo

        repo = Repo.find()
        spec = StageSpec(
            name=name,
            cmd=join_command(command or []),
            deps=deps or [],
            params=params or [],
            outs=outs or [],
            outs_no_cache=outs_no_cache or [],
            outs_persist=outs_persist or [],
            outs_persist_no_cache=outs_persist_no_cache or [],
            metrics=metrics or [],
            metrics_no_cache=metrics_no_cache or [],
            plots=plots or [],
            plots_no_cache=plots_no_cache or [],
            wdir=wdir,
            always_changed=always_changed,
            desc=desc,
        )
        added: list[Path] = []
        with repo.lock():
            stage = add_stage(repo, spec, force=force)
            to_stage = [
                *ignore_outputs(repo, stage, warn=sys.stderr.write, added=added),
                repo.root / stage.dvcfile,
            ]
        # DVC-compat: the stage and its file are named from the current directory.
        where = repo.user_dir(Path.cwd())
        shown_file = repo.shown(stage.dvcfile, Path.cwd())
        _say(quiet, f"Added stage '{stage.addressing_from(where)}' in '{shown_file}'\n")
        if run:
            from mlvc.ops.repro import repro

            try:
                result = repro(
                    repo,
                    [stage.addressing_from(where)],
                    force=True,
                    single_item=True,
                    echo=(lambda s: None) if quiet else (lambda s: _say(False, s)),
                )
            except BaseException:
                unignore_outputs(added)
                raise
            to_stage += [p for p in result.to_stage if p not in to_stage]
        from mlvc.cli._gitstage import stage_or_hint

        stage_or_hint(repo, to_stage, quiet)

    @stage_app.command("list")
    @handled()
    def stage_list_command(
        targets: Annotated[
            list[str] | None,
            typer.Argument(help="Stages or `dvc.yaml` files (default: ./dvc.yaml)."),
        ] = None,
        all_stages: Annotated[bool, typer.Option("--all", "-A", help="Every stage.")] = False,
        recursive: Annotated[
            bool,
            typer.Option("--recursive", "-R", help="A directory target: every stage below it."),
        ] = False,
        fail: Annotated[
            bool,
            typer.Option(
                "--fail", help="Stop on a `dvc.yaml` that does not load (with `--all` or `-R`)."
            ),
        ] = False,
        name_only: Annotated[
            bool, typer.Option("--name-only", "--names-only", help="Only the names.")
        ] = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """List stages with a short description."""
        from mlvc.ops.stage_list import list_stages
        from mlvc.pipeline.model import PROJECT_FILE
        from mlvc.repo import Repo

        repo = Repo.find()
        cwd = Path.cwd()
        if targets and "" in targets:
            all_stages = True  # DVC-compat: an empty target names every stage
        listing = list_stages(
            repo,
            blank_means_all(targets) or [PROJECT_FILE],
            cwd,
            all_stages=all_stages,
            recursive=recursive,
            fail=fail,
        )
        if not quiet:
            for rel, reason in listing.skipped:
                sys.stderr.write(f"warning: skipped `{rel}`: {reason} (`--fail` stops on it)\n")
        where = repo.user_dir(cwd)
        rows = [
            (s.addressing_from(where), "" if name_only else _describe(s)) for s in listing.stages
        ]
        width = max((len(n) for n, _ in rows), default=0)
        for name, desc in rows:
            # DVC-compat: `-q` does not silence the listing itself.
            _say(False, (f"{name.ljust(width)}  {desc}" if desc else name) + "\n")

    def _freeze(targets: list[str], frozen: bool, quiet: bool, verbose: bool) -> None:
        from mlvc.cli._errors import report
        from mlvc.exceptions import MlvcError
        from mlvc.ops.stage_add import freeze_target
        from mlvc.repo import Repo

        repo = Repo.find()
        code = 0
        with repo.lock():
            # DVC-compat: a target that fails is reported and the others still go.
            for target in targets:
                try:
                    done = freeze_target(repo, target, frozen)
                except MlvcError as exc:
                    code = report(exc, verbose=verbose)
                    continue
                if done is not None:
                    _say(quiet, f"Modifying stage '{done[1]}' in '{done[0]}'\n")
        if code:
            raise typer.Exit(code)

    @app.command("freeze")
    @handled()
    def freeze_command(
        targets: Annotated[list[str], typer.Argument(help="Stages to freeze.")],
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Mark stages `frozen`: repro will not run them or check their deps."""
        _freeze(targets, True, quiet, verbose)

    @app.command("unfreeze")
    @handled()
    def unfreeze_command(
        targets: Annotated[list[str], typer.Argument(help="Stages to unfreeze.")],
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Remove `frozen` from stages."""
        _freeze(targets, False, quiet, verbose)

    @app.command("dag")
    @handled()
    def dag_command(
        target: Annotated[str | None, typer.Argument(help="Only this stage's pipeline.")] = None,
        dot: Annotated[bool, typer.Option("--dot", help="Graphviz DOT.")] = False,
        mermaid: Annotated[bool, typer.Option("--mermaid", help="Mermaid flowchart.")] = False,
        markdown: Annotated[
            bool, typer.Option("--md", help="Mermaid inside a Markdown code block.")
        ] = False,
        full: Annotated[
            bool, typer.Option("--full", help="With a target: its whole pipeline.")
        ] = False,
        outs: Annotated[
            bool, typer.Option("--outs", "-o", help="Outputs instead of stages.")
        ] = False,
        collapse_foreach_matrix: Annotated[
            bool,
            typer.Option(
                "--collapse-foreach-matrix",
                help="One node for all the stages of each foreach/matrix definition.",
            ),
        ] = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show the stages (or outputs) and how they depend on each other."""
        from mlvc.ops.dag import (
            collapse_groups,
            dag_edges,
            render_ascii,
            render_dot,
            render_mermaid,
        )
        from mlvc.repo import Repo

        if outs and collapse_foreach_matrix:
            from mlvc.exceptions import PipelineError

            # DVC-compat: exit code 255 (DVC's InvalidArgumentError), not a usage error.
            raise PipelineError(
                "`--outs` and `--collapse-foreach-matrix` are mutually exclusive",
                "drop one of them",
            )
        from mlvc.cli._errors import broken_files_exit_255

        repo = Repo.find()
        with broken_files_exit_255():
            nodes, edges = dag_edges(repo, target, outs=outs, full=full)
        if collapse_foreach_matrix:
            nodes, edges = collapse_groups(nodes, edges)
        if dot:
            text = render_dot(nodes, edges)
        elif mermaid or markdown:
            text = render_mermaid(nodes, edges, markdown=markdown)
        else:
            text = render_ascii(nodes, edges)
        _say(quiet, text)


def _describe(stage: object) -> str:
    """DVC-compat `stage list` description: `desc`'s first line, or outputs/deps."""
    from mlvc.pipeline.model import Stage

    assert isinstance(stage, Stage)
    if stage.desc:
        line = next((ln.strip() for ln in stage.desc.splitlines() if ln.strip()), "")
        if line:
            return line if len(line) <= 80 else line[:79] + "…"
    if not stage.deps and not stage.outs:
        return "No outputs or dependencies"
    if not stage.outs:
        return "Depends on " + ", ".join(stage.deps)
    parts = []
    plain = [o.path for o in stage.outs if o.kind == "outs"]
    reports = [o.path for o in stage.outs if o.kind != "outs"]
    if plain:
        parts.append("Outputs " + ", ".join(plain))
    if reports:
        parts.append("Reports " + ", ".join(reports))
    text = "; ".join(parts)
    return text if len(text) <= 80 else text[:79] + "…"
