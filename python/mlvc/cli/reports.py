"""Report commands: `params diff`, `metrics show`, `metrics diff`."""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlvc.cli._errors import describe, handled
from mlvc.cli._options import AllBranches, AllCommits, AllTags, Quiet, Verbose

if TYPE_CHECKING:
    from mlvc.repo import Repo

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Markdown = Annotated[bool, typer.Option("--md", help="Print a Markdown (GFM) table.")]
NoPath = Annotated[bool, typer.Option("--no-path", help="Leave out the Path column.")]
Precision = Annotated[
    int | None,
    typer.Option("--precision", metavar="N", help="Round floats to N digits (default 5)."),
]
# DVC-compat: DVC 3 reads every metrics file under a directory target with or without
# `-R`; the flag is accepted so that scripts written for DVC keep working.
Recursive = Annotated[
    bool,
    typer.Option("--recursive", "-R", help="Read the metrics files under directory targets."),
]
ARev = Annotated[str, typer.Argument(help="Old Git revision (default HEAD).")]
BRev = Annotated[str, typer.Argument(help="New Git revision (default: the workspace).")]


def _warn_errors(results: dict[str, Any], what: str) -> None:
    from mlvc.ops.metrics import errors

    for rev, path, exc in errors(results):
        where = "the workspace" if rev in ("", "workspace") else f"revision `{rev}`"
        message, _hint = describe(exc)
        if path is not None and f"`{path}" not in message:
            message = f"`{path}`: {message}"
        print(f"warning: cannot load {what} in {where}: {message}", file=sys.stderr)


def _open_repo() -> "Repo":
    """The repository these reports read.

    DVC-compat: they also read a git work tree (or, outside git, the current
    directory) that was never initialised, as DVC's `uninitialized` commands do.
    """
    from mlvc.repo import Repo

    return Repo.find(uninitialized=True)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _diff_output(
    repo: "Repo",
    diff: dict[str, Any],
    *,
    title: str,
    json_out: bool,
    markdown: bool,
    no_path: bool,
    precision: int | None,
    with_change: bool,
    a_rev: str,
    b_rev: str,
) -> None:
    from mlvc.ops.metrics import diff_rows, shown_path, to_json
    from mlvc.render.table import render_table

    shown = {shown_path(repo, p): v for p, v in diff.items()}
    if json_out:
        _write(to_json(shown) + "\n")
        return
    headers = ["Path", title, a_rev, b_rev] + (["Change"] if with_change else [])
    if no_path:
        headers.pop(0)
    rows = diff_rows(
        shown, precision=precision, with_change=with_change, no_path=no_path, shown=str
    )
    _write(render_table(headers, rows, markdown=markdown))


def register(app: Any) -> None:
    """Adds the `params` and `metrics` groups to the app."""
    params_app = typer.Typer(
        name="params", help="Compare params.", no_args_is_help=True, rich_markup_mode=None
    )
    metrics_app = typer.Typer(
        name="metrics",
        help="Show and compare metrics.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    app.add_typer(params_app, name="params")
    app.add_typer(metrics_app, name="metrics")

    @params_app.command("diff")
    @handled()
    def params_diff_command(
        a_rev: ARev = "HEAD",
        b_rev: BRev = "workspace",
        targets: Annotated[
            list[str] | None,
            typer.Option("--targets", help="Params files to compare (whole files)."),
        ] = None,
        all_params: Annotated[bool, typer.Option("--all", help="Unchanged params too.")] = False,
        deps: Annotated[
            bool, typer.Option("--deps", help="Only params that stages depend on.")
        ] = False,
        json_out: Json = False,
        markdown: Markdown = False,
        no_path: NoPath = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show how params changed between commits, or a commit and the workspace."""
        from mlvc.ops.params_diff import params_diff

        repo = _open_repo()
        diff, results = params_diff(
            repo, a_rev, b_rev, targets or [], with_unchanged=all_params, deps_only=deps
        )
        _warn_errors(results, "params")
        _diff_output(
            repo,
            diff,
            title="Param",
            json_out=json_out,
            markdown=markdown,
            no_path=no_path,
            precision=None,
            with_change=False,
            a_rev=a_rev,
            b_rev=b_rev,
        )

    @metrics_app.command("show")
    @handled()
    def metrics_show_command(
        targets: Annotated[
            list[str] | None, typer.Argument(help="Metrics files (default: all of them).")
        ] = None,
        all_branches: AllBranches = False,
        all_tags: AllTags = False,
        all_commits: AllCommits = False,
        recursive: Recursive = False,
        json_out: Json = False,
        markdown: Markdown = False,
        precision: Precision = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Print metrics files' values."""
        from mlvc.ops.metrics import DEFAULT_PRECISION, metrics_rows, show, shown_path, to_json
        from mlvc.render.table import render_table
        from mlvc.revs import RevScope

        repo = _open_repo()
        scope = RevScope(all_branches=all_branches, all_tags=all_tags, all_commits=all_commits)
        results = show(repo, targets or [], scope=scope)
        _warn_errors(results, "metrics")
        for res in results.values():
            if "data" in res:
                res["data"] = {shown_path(repo, p): v for p, v in res["data"].items()}
        if json_out:
            _write(to_json(results) + "\n")
            return
        headers, rows = metrics_rows(
            results,
            precision or DEFAULT_PRECISION,
            with_revision=scope.has_commits,
            shown=str,
        )
        _write(render_table(headers, rows, markdown=markdown))

    @metrics_app.command("diff")
    @handled()
    def metrics_diff_command(
        a_rev: ARev = "HEAD",
        b_rev: BRev = "workspace",
        targets: Annotated[
            list[str] | None,
            typer.Option("--targets", help="Metrics files (or directories) to compare."),
        ] = None,
        recursive: Recursive = False,
        all_metrics: Annotated[bool, typer.Option("--all", help="Unchanged metrics too.")] = False,
        json_out: Json = False,
        markdown: Markdown = False,
        no_path: NoPath = False,
        precision: Precision = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show how metrics changed between commits, or a commit and the workspace."""
        from mlvc.ops.metrics import DEFAULT_PRECISION, diff

        repo = _open_repo()
        changes, results = diff(repo, a_rev, b_rev, targets or [], with_unchanged=all_metrics)
        _warn_errors(results, "metrics")
        _diff_output(
            repo,
            changes,
            title="Metric",
            json_out=json_out,
            markdown=markdown,
            no_path=no_path,
            precision=precision or DEFAULT_PRECISION,
            with_change=True,
            a_rev=a_rev,
            b_rev=b_rev,
        )
