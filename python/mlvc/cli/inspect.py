"""Inspection commands: `data status`, `diff` and `ls`."""

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlvc.cli._errors import handled
from mlvc.cli._options import AsJson, Jobs, Quiet, Verbose

if TYPE_CHECKING:
    from mlvc.cli import CommandSink


class UntrackedFiles(StrEnum):
    """Values of `data status --untracked-files` (DVC's `{no,all}`)."""

    NO = "no"
    ALL = "all"


def _write(quiet: bool, text: str) -> None:
    if not quiet and text:
        sys.stdout.write(text)


def register(app: "CommandSink") -> None:
    """Adds `data status`, `diff`, `ls` and `root` to the app."""

    @app.command("root")
    @handled()
    def root_command(verbose: Verbose = False) -> None:
        """Print the path of the repository's root, relative to the current directory."""
        import os

        from mlvc.repo import find_root

        print(os.path.relpath(find_root(), Path.cwd()))

    data_app = typer.Typer(
        name="data",
        help="Commands related to data management.",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.add_typer(data_app, name="data")

    @data_app.command("status")
    def data_status_command(
        targets: Annotated[list[str] | None, typer.Argument(help="Limit to these paths.")] = None,
        as_json: AsJson = False,
        granular: Annotated[
            bool, typer.Option("--granular", help="List the files inside tracked directories.")
        ] = False,
        unchanged: Annotated[
            bool, typer.Option("--unchanged", help="Also list unchanged tracked data.")
        ] = False,
        untracked_files: Annotated[
            UntrackedFiles,
            typer.Option(
                "--untracked-files",
                help="Also list files git does not track (`all`, the value alone; or `no`).",
            ),
        ] = UntrackedFiles.NO,
        not_in_remote: Annotated[
            bool, typer.Option("--not-in-remote", help="List data the remote does not hold.")
        ] = False,
        remote: Annotated[
            str | None,
            typer.Option("--remote", "-r", help="Remote to check (with `--not-in-remote`)."),
        ] = None,
        no_remote_refresh: Annotated[
            bool,
            typer.Option(
                "--no-remote-refresh",
                help="With `--not-in-remote`: do not ask the remote; answer from what it "
                "was last seen to hold (by push, fetch, pull, status -c, data status).",
            ),
        ] = False,
        jobs: Jobs = 0,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show changes between the last git commit, the `.dvc` files and the workspace."""
        from mlvc.cli._status import show_data_status

        show_data_status(
            targets=targets,
            as_json=as_json,
            granular=granular,
            unchanged=unchanged,
            # DVC-compat: `--untracked-files` alone means `all` (see `mlvc.cli.normalise_args`).
            untracked_files=untracked_files is UntrackedFiles.ALL,
            not_in_remote=not_in_remote,
            remote=remote,
            no_remote_refresh=no_remote_refresh,
            jobs=jobs,
            quiet=quiet,
            verbose=verbose,
        )

    @app.command("diff")
    @handled()
    def diff_command(
        a_rev: Annotated[str | None, typer.Argument(help="Old commit (default: HEAD).")] = None,
        b_rev: Annotated[
            str | None, typer.Argument(help="New commit (default: the workspace).")
        ] = None,
        targets: Annotated[
            list[str] | None,
            typer.Option(
                "--targets",
                help="Only these outputs, `.dvc` files, `dvc.yaml` files or stages (repeatable).",
            ),
        ] = None,
        as_json: AsJson = False,
        show_hash: Annotated[
            bool, typer.Option("--show-hash", help="Show each entry's hash.")
        ] = False,
        markdown: Annotated[bool, typer.Option("--md", help="Print a Markdown table.")] = False,
        hide_missing: Annotated[
            bool, typer.Option("--hide-missing", help="Leave out data missing from the cache.")
        ] = False,
        jobs: Jobs = 0,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show data added, modified, deleted or renamed between commits or the workspace."""
        from mlvc.cli._errors import broken_pipelines_exit_1
        from mlvc.ops import diff as df
        from mlvc.repo import Repo

        repo = Repo.find()
        with broken_pipelines_exit_1():
            result = df.diff(repo, a_rev, b_rev, targets=targets or [], jobs=jobs)
        # DVC-compat: comparing two commits never reports missing cache entries.
        hide = bool(b_rev) or hide_missing
        if hide:
            result.pop("not in cache", None)
        if not show_hash:
            result = df.hide_hashes(result)
        if as_json:
            sys.stdout.write(json.dumps(result) + "\n")
        elif markdown:
            _write(quiet, df.as_markdown(result, show_hash=show_hash, hide_missing=hide))
        elif result:
            _write(quiet, df.as_text(result, hide_missing=hide))

    @app.command("ls")
    @handled()
    def ls_command(
        url: Annotated[str, typer.Argument(help="The repository (a local path such as `.`).")],
        path: Annotated[
            str | None,
            typer.Argument(help="A path inside it (from the current directory, when in it)."),
        ] = None,
        rev: Annotated[
            str | None, typer.Option("--rev", help="Git revision (SHA, branch, tag).")
        ] = None,
        recursive: Annotated[
            bool, typer.Option("--recursive", "-R", help="List files recursively.")
        ] = False,
        tree: Annotated[
            bool, typer.Option("--tree", "-T", help="Recurse into directories as a tree.")
        ] = False,
        level: Annotated[
            int | None,
            typer.Option("--level", "-L", metavar="DEPTH", help="Limit the depth of recursion."),
        ] = None,
        dvc_only: Annotated[bool, typer.Option("--dvc-only", help="Only DVC outputs.")] = False,
        as_json: AsJson = False,
        size: Annotated[bool, typer.Option("--size", help="Show sizes.")] = False,
        show_hash: Annotated[
            bool, typer.Option("--show-hash", help="Show each entry's hash.")
        ] = False,
        config: Annotated[
            Path | None,
            typer.Option(
                "--config",
                metavar="FILE",
                help="A config file merged over the repository's config.",
            ),
        ] = None,
        remote: Annotated[
            str | None,
            typer.Option(
                "--remote",
                metavar="NAME",
                help="The remote to read directories missing from the cache from.",
            ),
        ] = None,
        remote_config: Annotated[
            list[str] | None,
            typer.Option(
                "--remote-config",
                metavar="NAME=VALUE",
                help="Options merged over that remote's config (the default remote's "
                "without --remote).",
            ),
        ] = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """List git files and DVC outputs of a repository, at a revision or in its workspace."""
        from mlvc.cli._errors import broken_pipelines_exit_1
        from mlvc.ops.ls import (
            RepositoryUrlError,
            TreeJsonError,
            as_text,
            ls,
            ls_tree,
            override_config,
            tree_as_text,
        )
        from mlvc.repo import Repo

        if tree and as_json:
            # DVC-compat: DVC's message, exit 255.
            raise TreeJsonError("Cannot use --tree and --json options together.")
        if not os.path.exists(url):
            # Else the repository around the current directory would be listed.
            raise RepositoryUrlError(url)
        # Normalised (`..` resolved), as DVC's `os.path.abspath`, so the root compares
        # equal to the current directory's ancestors.
        repo = Repo.find(Path(os.path.abspath(url)))
        override_config(repo, config_file=config, remote=remote, remote_config=remote_config)
        if tree:
            with broken_pipelines_exit_1():
                root = ls_tree(repo, path, rev=rev, dvc_only=dvc_only, maxdepth=level)
            _write(quiet, tree_as_text(root, size=size, show_hash=show_hash))
            return
        with broken_pipelines_exit_1():
            entries = ls(
                repo, path, rev=rev, recursive=recursive, dvc_only=dvc_only, maxdepth=level
            )
        if as_json:
            sys.stdout.write(json.dumps(entries) + "\n")
        else:
            _write(quiet, as_text(entries, size=size, show_hash=show_hash))
