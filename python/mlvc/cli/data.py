"""Data commands: init, add, status, checkout, commit."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlvc.cli._errors import handled
from mlvc.cli._options import (
    AllBranches,
    AllCommits,
    AllTags,
    AsJson,
    Jobs,
    NoRelink,
    Quiet,
    Recursive,
    Verbose,
    WithDeps,
)
from mlvc.cli._output import say as _say

if TYPE_CHECKING:
    from mlvc.cli import CommandSink


def register(app: "CommandSink") -> None:
    """Adds the commands to the app."""

    @app.command("init")
    @handled()
    def init_command(
        no_scm: Annotated[bool, typer.Option("--no-scm", help="Do not use git.")] = False,
        force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite `.dvc/`.")] = False,
        subdir: Annotated[
            bool, typer.Option("--subdir", help="Initialise in a subdirectory of a git repo.")
        ] = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Make the current directory a DVC/mlvc repository."""
        from mlvc.ops.init import init

        init(Path.cwd(), no_scm=no_scm, force=force, subdir=subdir)
        _say(quiet, "Initialized DVC repository.\n")
        if not no_scm:
            _say(quiet, "\nYou can now commit the changes to git.\n")

    @app.command("add")
    def add_command(
        targets: Annotated[list[str], typer.Argument(help="Files or directories to track.")],
        no_commit: Annotated[
            bool, typer.Option("--no-commit", help="Write the .dvc file; do not cache.")
        ] = False,
        use_glob: Annotated[
            bool, typer.Option("--glob", help="Expand targets as glob patterns.")
        ] = False,
        out: Annotated[
            str | None,
            typer.Option("--out", "-o", help="Put the (outside) target at this path in the repo."),
        ] = None,
        to_remote: Annotated[
            bool,
            typer.Option(
                "--to-remote", help="Store the target straight on a remote, not in the cache."
            ),
        ] = False,
        remote: Annotated[
            str | None,
            typer.Option("--remote", "-r", help="Remote for --to-remote (default: the default)."),
        ] = None,
        remote_jobs: Annotated[
            int | None,
            typer.Option("--remote-jobs", min=1, help="Parallel uploads with --to-remote."),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="With --out: replace what is there.")
        ] = False,
        no_relink: NoRelink = False,
        jobs: Jobs = 0,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Track data files or directories with `.dvc` files."""
        from mlvc.cli._tracking import run_add

        run_add(
            targets=targets,
            no_commit=no_commit,
            use_glob=use_glob,
            out=out,
            to_remote=to_remote,
            remote=remote,
            remote_jobs=remote_jobs,
            force=force,
            no_relink=no_relink,
            jobs=jobs,
            quiet=quiet,
            verbose=verbose,
        )

    @app.command("status")
    def status_command(
        targets: Annotated[list[str] | None, typer.Argument(help="Limit to these.")] = None,
        as_json: AsJson = False,
        cloud: Annotated[
            bool, typer.Option("--cloud", "-c", help="Compare the cache with a remote.")
        ] = False,
        remote: Annotated[
            str | None, typer.Option("--remote", "-r", help="Remote to compare with (implies -c).")
        ] = None,
        all_branches: AllBranches = False,
        all_tags: AllTags = False,
        all_commits: AllCommits = False,
        with_deps: WithDeps = False,
        recursive: Recursive = False,
        jobs: Annotated[
            int | None,
            typer.Option("--jobs", "-j", min=0, help="Worker threads, with `-c` (default: cores)."),
        ] = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show changed stages and outputs differing from `.dvc` files (`-q`: exit 1 if any)."""
        from mlvc.cli._status import show_status

        show_status(
            targets=targets,
            as_json=as_json,
            cloud=cloud,
            remote=remote,
            all_branches=all_branches,
            all_tags=all_tags,
            all_commits=all_commits,
            with_deps=with_deps,
            recursive=recursive,
            jobs=jobs,
            quiet=quiet,
            verbose=verbose,
        )

    @app.command("commit")
    def commit_command(
        targets: Annotated[list[str] | None, typer.Argument(help="Limit to these.")] = None,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Commit changed stages without asking.")
        ] = False,
        with_deps: WithDeps = False,
        recursive: Recursive = False,
        no_relink: NoRelink = False,
        jobs: Jobs = 0,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Record changed outputs in their `.dvc` files and the cache."""
        from mlvc.cli._tracking import run_commit

        run_commit(
            targets=targets,
            force=force,
            with_deps=with_deps,
            recursive=recursive,
            no_relink=no_relink,
            jobs=jobs,
            quiet=quiet,
            verbose=verbose,
        )

    @app.command("checkout")
    def checkout_command(
        targets: Annotated[list[str] | None, typer.Argument(help="Limit to these.")] = None,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Overwrite changes not in the cache.")
        ] = False,
        relink: Annotated[
            bool, typer.Option("--relink", help="Recreate links even where data is right.")
        ] = False,
        summary: Annotated[bool, typer.Option("--summary", help="Only print totals.")] = False,
        with_deps: WithDeps = False,
        recursive: Recursive = False,
        allow_missing: Annotated[
            bool,
            typer.Option(
                "--allow-missing", help="Outputs whose data is not in the cache are no error."
            ),
        ] = False,
        jobs: Jobs = 0,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Restore tracked data from the cache."""
        from mlvc.cli._tracking import run_checkout

        run_checkout(
            targets=targets,
            force=force,
            relink=relink,
            summary=summary,
            with_deps=with_deps,
            recursive=recursive,
            allow_missing=allow_missing,
            jobs=jobs,
            quiet=quiet,
            verbose=verbose,
        )
