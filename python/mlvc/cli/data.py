"""Data commands: init, add, status, checkout, commit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlvc.cli import blank_means_all
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
from mlvc.cli._output import warn as _warn

if TYPE_CHECKING:
    from mlvc.cli import CommandSink


def register(app: CommandSink) -> None:
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
    @handled()
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
        from mlvc.cli._progress import Meter
        from mlvc.ops.add import add
        from mlvc.repo import Repo

        repo = Repo.find()
        with Meter("adding", enabled=not quiet) as meter:
            result = add(
                repo,
                targets,
                no_commit=no_commit,
                use_glob=use_glob,
                out=out,
                force=force,
                jobs=jobs,
                progress=meter,
                relink=not no_relink,
                to_remote=to_remote,
                remote=remote,
                remote_jobs=remote_jobs,
            )
        from mlvc.cli._gitstage import stage_or_hint

        stage_or_hint(repo, result.to_stage, quiet)

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
    @handled()
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
        from mlvc.cli._progress import Meter
        from mlvc.ops.commit import commit
        from mlvc.repo import Repo

        meter = Meter("committing", enabled=not quiet)

        def ask(question: str) -> bool:
            from mlvc.cli._prompt import confirm

            # DVC-compat: asked only when stdout is a terminal; otherwise the answer is no.
            with meter.paused():
                return bool(confirm(question, suffix=" [y/n]", needs_tty=True))

        repo = Repo.find()
        with meter:
            changed = commit(
                repo,
                blank_means_all(targets),
                jobs=jobs,
                progress=meter,
                echo=lambda t: _say(quiet, t),
                with_deps=with_deps,
                recursive=recursive,
                relink=not no_relink,
                ask=None if force else ask,
                warn=(lambda _: None) if quiet else _warn,
            )
        for path in changed:
            if path.name != "dvc.lock":
                _say(quiet, f"Updated {repo.relpath(path)}\n")

    @app.command("checkout")
    @handled()
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
        from mlvc.cli._progress import Meter
        from mlvc.ops.checkout import (
            CheckoutConflictError,
            CheckoutFailedError,
            checkout,
            humanize_join,
            plural,
            warn_unrecorded,
        )
        from mlvc.ops.targets import TargetError
        from mlvc.output import InvalidDvcFileError, UnsafePathError
        from mlvc.repo import Repo
        from mlvc.yamldata import YamlError

        repo = Repo.find()
        failure: CheckoutFailedError | None = None
        try:
            with Meter("checking out", enabled=not quiet) as meter:
                result = checkout(
                    repo,
                    blank_means_all(targets),
                    force=force,
                    relink=relink,
                    jobs=jobs,
                    with_deps=with_deps,
                    recursive=recursive,
                    allow_missing=allow_missing,
                    progress=meter,
                )
        except TargetError as exc:
            # DVC-compat: an unknown target is DVC's "Did you mean `git checkout`?", exit 255.
            exc.exit_code = 255
            if exc.target is not None:
                exc.hint = f"did you mean `git checkout {exc.target}`?"
            raise
        except UnsafePathError:
            raise
        except (InvalidDvcFileError, YamlError) as exc:
            exc.exit_code = 255  # DVC-compat: `dvc checkout` of a broken `.dvc` file
            raise
        except (CheckoutConflictError, CheckoutFailedError) as exc:
            # DVC-compat: DVC refuses with a DvcException, exit 255 (`pull` says 1).
            exc.exit_code = 255
            if not isinstance(exc, CheckoutFailedError) or exc.summary is None:
                raise
            # DVC-compat: what was restored is reported before the failure.
            failure, result = exc, exc.summary
        if quiet:
            if failure is not None:
                raise failure
            return
        warn_unrecorded(repo, result.unrecorded, Path.cwd())
        if summary:
            # DVC-compat: the files changed, counted one by one, on stdout.
            counts = [f"{plural(n)} {word}" for word, n in result.files.items() if n]
            sys.stdout.write((humanize_join(counts) or "No changes.") + "\n")
        else:
            sys.stdout.writelines(line + "\n" for line in result.lines(repo))
            parts = []
            if result.added:
                parts.append(f"{len(result.added)} added")
            if result.modified:
                parts.append(f"{len(result.modified)} modified")
            how = f" ({', '.join(sorted(result.link_types))})" if result.link_types else ""
            if parts or failure is None:  # a failure is not "up to date"
                sys.stderr.write((", ".join(parts) or "Everything is up to date") + how + ".\n")
        if failure is not None:
            raise failure
        if relink:
            sys.stdout.write("Relinked successfully\n")
