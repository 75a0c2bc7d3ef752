"""Remote and config commands: push, fetch, pull, remote ..., config, cache dir."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlvc.cli import blank_means_all
from mlvc.cli._errors import handled
from mlvc.cli._options import (
    AllBranches,
    AllCommits,
    AllTags,
    AnyJobs,
    Glob,
    Jobs,
    Quiet,
    Recursive,
    RunCache,
    Verbose,
    WithDeps,
    default_jobs,
)
from mlvc.cli._options import Remote as RemoteOpt

if TYPE_CHECKING:
    from mlvc.cli import CommandSink
    from mlvc.ops.configure import Editor
    from mlvc.ops.transfer import TransferSummary

Targets = Annotated[
    list[str] | None,
    typer.Argument(help="`.dvc` files, tracked paths, stage names (`train`, `dvc.yaml:train`)."),
]


class OutType(StrEnum):
    """`fetch --type`: DVC's choices."""

    metrics = "metrics"
    plots = "plots"


Global = Annotated[bool, typer.Option("--global", help="Use the global config.")]
System = Annotated[bool, typer.Option("--system", help="Use the system config.")]
Project = Annotated[bool, typer.Option("--project", help="Use `.dvc/config`.")]
Local = Annotated[bool, typer.Option("--local", help="Use `.dvc/config.local`.")]


def _level(*, system: bool, global_: bool, project: bool, local: bool) -> str | None:
    chosen = [
        name
        for name, on in (
            ("system", system),
            ("global", global_),
            ("repo", project),
            ("local", local),
        )
        if on
    ]
    if len(chosen) > 1:
        from mlvc.exceptions import UsageError

        # DVC-compat: the parser refuses them together (exit 254).
        raise UsageError("choose at most one of `--system`, `--global`, `--project`, `--local`")
    return chosen[0] if chosen else None


def _editor() -> "Editor":
    from mlvc.ops.configure import Editor
    from mlvc.repo import NotARepoError, find_root

    # DVC-compat: outside a repository only the user levels are read, and naming a
    # repository level is a config error (251), not "not a repository".
    try:
        dvc_dir: Path | None = find_root() / ".dvc"
    except NotARepoError:
        dvc_dir = None
    return Editor.open(dvc_dir)


def _warn_missing(missing: list[str]) -> None:
    if missing:
        # DVC-compat: the warning DVC prints; the command still succeeds.
        sys.stderr.write(
            "WARNING: Some of the cache files do not exist neither locally nor on remote. "
            "Missing cache files:\n"
        )
        from mlvc.objects import bare

        for h in sorted({bare(oid) for oid in missing}):
            sys.stderr.write(f"md5: {h}\n")


def _warn_no_remote(summary: "TransferSummary") -> None:
    if summary.no_remote:
        # DVC-compat: DVC's words; fetching from no remote is not an error.
        sys.stderr.write("No remote provided and no default remote set.\n")


def _report(summary: "TransferSummary", verb: str, quiet: bool) -> None:
    from mlvc.ops.checkout import plural

    _warn_no_remote(summary)
    _warn_missing(summary.missing)
    if quiet:
        return
    if summary.transferred:
        sys.stdout.write(f"{plural(summary.transferred)} {verb}\n")
    else:
        sys.stdout.write("Everything is up to date.\n")


def register(app: "CommandSink") -> None:
    """Adds the commands to the app."""

    @app.command("push")
    @handled()
    def push_command(
        targets: Targets = None,
        remote: RemoteOpt = None,
        jobs: Jobs = 0,
        all_branches: AllBranches = False,
        all_tags: AllTags = False,
        all_commits: AllCommits = False,
        with_deps: WithDeps = False,
        recursive: Recursive = False,
        run_cache: RunCache = False,
        glob: Glob = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Upload tracked data the remote lacks."""
        from mlvc.cli._progress import Meter
        from mlvc.ops.transfer import Selection, push
        from mlvc.repo import Repo
        from mlvc.revs import RevScope

        repo = Repo.find()
        with Meter("pushing", enabled=not quiet) as meter:
            summary = push(
                repo,
                blank_means_all(targets),
                remote=remote or None,  # DVC-compat: `-r ''` is no `-r`
                jobs=jobs,
                progress=meter,
                scope=RevScope(
                    all_branches=all_branches, all_tags=all_tags, all_commits=all_commits
                ),
                selection=Selection(with_deps=with_deps, recursive=recursive, glob=glob),
                run_cache=run_cache,
            )
        _report(summary, "pushed", quiet)

    @app.command("fetch")
    @handled()
    def fetch_command(
        targets: Targets = None,
        remote: RemoteOpt = None,
        jobs: AnyJobs = 0,
        all_branches: AllBranches = False,
        all_tags: AllTags = False,
        all_commits: AllCommits = False,
        with_deps: WithDeps = False,
        recursive: Recursive = False,
        run_cache: RunCache = False,
        max_size: Annotated[
            int | None,
            typer.Option("--max-size", metavar="BYTES", help="Only outputs smaller than this."),
        ] = None,
        types: Annotated[
            list[OutType] | None,
            typer.Option("--type", help="Only outputs of this kind (repeatable)."),
        ] = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Download tracked data the cache lacks (the workspace is not touched)."""
        from mlvc.cli._progress import Meter
        from mlvc.ops.transfer import Selection, fetch
        from mlvc.repo import Repo
        from mlvc.revs import RevScope

        repo = Repo.find()
        with Meter("fetching", enabled=not quiet) as meter:
            summary = fetch(
                repo,
                blank_means_all(targets),
                remote=remote or None,  # DVC-compat: `-r ''` is no `-r`
                jobs=default_jobs(jobs),
                progress=meter,
                scope=RevScope(
                    all_branches=all_branches, all_tags=all_tags, all_commits=all_commits
                ),
                selection=Selection(
                    with_deps=with_deps,
                    recursive=recursive,
                    max_size=max_size,
                    types=tuple(t.value for t in types or ()),
                ),
                run_cache=run_cache,
            )
        # DVC-compat: a fetch that fails says so on stderr alone.
        _report(summary, "fetched", quiet or bool(summary.failed))
        if summary.failed:
            from mlvc.ops.transfer import FetchFailedError

            raise FetchFailedError(summary.failed)
        if summary.corrupt:
            from mlvc.ops.transfer import CorruptDownloadError

            raise CorruptDownloadError(summary.corrupt)

    @app.command("pull")
    @handled()
    def pull_command(
        targets: Targets = None,
        remote: RemoteOpt = None,
        jobs: AnyJobs = 0,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Overwrite workspace changes.")
        ] = False,
        all_branches: AllBranches = False,
        all_tags: AllTags = False,
        all_commits: AllCommits = False,
        with_deps: WithDeps = False,
        recursive: Recursive = False,
        run_cache: RunCache = False,
        allow_missing: Annotated[
            bool,
            typer.Option(
                "--allow-missing", help="Data found nowhere is no error (only a warning)."
            ),
        ] = False,
        # DVC-compat: DVC accepts `pull --glob` but hides it from its help.
        glob: Annotated[bool, typer.Option("--glob", hidden=True)] = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Fetch tracked data, then check it out into the workspace."""
        from mlvc.cli._progress import Meter
        from mlvc.ops.checkout import (
            CheckoutFailedError,
            humanize_join,
            plural,
            warn_unrecorded,
        )
        from mlvc.ops.transfer import Selection, pull
        from mlvc.repo import Repo
        from mlvc.revs import RevScope

        repo = Repo.find()
        with Meter("fetching", enabled=not quiet) as meter:
            result = pull(
                repo,
                blank_means_all(targets),
                remote=remote or None,  # DVC-compat: `-r ''` is no `-r`
                jobs=default_jobs(jobs),
                force=force,
                progress=meter,
                checkout_progress=meter.then("checking out"),
                scope=RevScope(
                    all_branches=all_branches, all_tags=all_tags, all_commits=all_commits
                ),
                selection=Selection(with_deps=with_deps, recursive=recursive, glob=glob),
                run_cache=run_cache,
            )
        _warn_no_remote(result.fetch)
        _warn_missing([*result.fetch.missing, *result.fetch.failed])
        if result.fetch.corrupt:
            from mlvc.ops.transfer import CorruptDownloadError

            # What the checkout then lacks fails it below, as any missing data does.
            sys.stderr.write(f"warning: {CorruptDownloadError(result.fetch.corrupt)}\n")
        if not quiet:
            warn_unrecorded(repo, result.unrecorded, Path.cwd())
        # DVC-compat: with `--allow-missing`, the warnings above are all that is said.
        reasons = []
        if result.failed:
            reasons.append(
                "could not restore (objects on neither the cache nor the remote): "
                + ", ".join(f"`{p}`" for p in result.failed)
            )
        if result.unrecorded:
            reasons.append(
                "no hash recorded (their stages never ran): "
                + ", ".join(f"`{p}`" for p in result.unrecorded)
            )
        failure = CheckoutFailedError("; ".join(reasons)) if reasons and not allow_missing else None
        if failure is not None and not result.failed:
            failure.hint = "run the stages that make them with `mlvc repro`"
        if quiet:
            if failure is not None:
                raise failure
            return
        done = result.checkout
        # DVC-compat: modified before added, in the lines and in the counts.
        sys.stdout.writelines(line + "\n" for line in done.lines(repo))
        parts = []
        if result.fetch.transferred:
            parts.append(f"{plural(result.fetch.transferred)} fetched")
        # DVC-compat: checkout counts the files it changed, one by one.
        parts += [f"{plural(n)} {word}" for word, n in done.files.items() if n]
        sys.stdout.write((humanize_join(parts) or "Everything is up to date.") + "\n")
        if failure is not None:
            raise failure

    # --- remote ---------------------------------------------------------------------------
    remote_app = typer.Typer(
        help="Add, list, change and remove storage remotes.", no_args_is_help=True
    )
    app.add_typer(remote_app, name="remote")

    @remote_app.command("add")
    @handled()
    def remote_add(
        name: Annotated[str, typer.Argument(help="Remote name.")],
        url: Annotated[str, typer.Argument(help="Remote url or local path.")],
        default: Annotated[
            bool, typer.Option("--default", "-d", help="Make it the default remote.")
        ] = False,
        force: Annotated[
            bool, typer.Option("--force", "-f", help="Overwrite an existing remote.")
        ] = False,
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Add a remote."""
        from mlvc.ops.configure import add_remote

        level = _level(system=system, global_=global_, project=project, local=local)
        if default and not quiet:
            # DVC-compat: said before the config is edited, even when that then fails.
            sys.stdout.write(f"Setting '{name.lower()}' as a default remote.\n")
        add_remote(_editor(), name, url, level=level or "repo", default=default, force=force)

    @remote_app.command("default")
    @handled()
    def remote_default(
        name: Annotated[str | None, typer.Argument(help="Remote to make the default.")] = None,
        unset_: Annotated[bool, typer.Option("--unset", "-u", help="Unset the default.")] = False,
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show, set or unset the default remote."""
        from mlvc.ops.configure import get_default, set_default

        level = _level(system=system, global_=global_, project=project, local=local)
        ed = _editor()
        if unset_ or name is not None:
            set_default(ed, None if unset_ else name, level=level)
            return
        current = get_default(ed, level)
        if current is None:
            # DVC-compat: printed on stdout, exit 1.
            sys.stdout.write("No default remote set\n")
            sys.exit(1)
        sys.stdout.write(current + "\n")

    @remote_app.command("list")
    @handled()
    def remote_list(
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """List remotes with their urls."""
        from mlvc.ops.configure import list_remotes

        level = _level(system=system, global_=global_, project=project, local=local)
        for name, url, is_default in list_remotes(_editor(), level):
            # DVC-compat: tab-separated columns, expanded to 8-column stops.
            line = f"{name}\t{url}" + ("\t(default)" if is_default else "")
            sys.stdout.write(line.expandtabs() + "\n")

    @remote_app.command("modify")
    @handled()
    def remote_modify(
        name: Annotated[str, typer.Argument(help="Remote name.")],
        option: Annotated[str, typer.Argument(help="Option name, e.g. `url`, `jobs`.")],
        value: Annotated[str | None, typer.Argument(help="New value.")] = None,
        unset_: Annotated[bool, typer.Option("--unset", "-u", help="Unset the option.")] = False,
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Set or unset an option of a remote."""
        from mlvc.config import ConfigError
        from mlvc.ops.configure import modify_remote

        level = _level(system=system, global_=global_, project=project, local=local)
        if value is None and not unset_:
            raise ConfigError(f"`remote modify {name} {option}` needs a VALUE, or `--unset`")
        modify_remote(_editor(), name, option, None if unset_ else value, level=level)

    @remote_app.command("remove")
    @handled()
    def remote_remove(
        name: Annotated[str, typer.Argument(help="Remote name.")],
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Remove a remote (and unset it as the default)."""
        from mlvc.ops.configure import remove_remote

        level = _level(system=system, global_=global_, project=project, local=local)
        remove_remote(_editor(), name, level=level or "repo")

    @remote_app.command("rename")
    @handled()
    def remote_rename(
        old: Annotated[str, typer.Argument(help="Current name.")],
        new: Annotated[str, typer.Argument(help="New name.")],
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Rename a remote."""
        from mlvc.ops.configure import rename_remote

        level = _level(system=system, global_=global_, project=project, local=local)
        rename_remote(_editor(), old, new, level=level or "repo")

    # --- config ---------------------------------------------------------------------------
    @app.command("config")
    @handled()
    def config_command(
        name: Annotated[
            str | None, typer.Argument(help="`section.option` or `remote.NAME.option`.")
        ] = None,
        value: Annotated[str | None, typer.Argument(help="Value to set.")] = None,
        unset_: Annotated[bool, typer.Option("--unset", "-u", help="Unset the option.")] = False,
        list_: Annotated[bool, typer.Option("--list", "-l", help="List all options.")] = False,
        show_origin: Annotated[
            bool, typer.Option("--show-origin", help="Show the file each value comes from.")
        ] = False,
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Get, set, unset or list config options."""
        from mlvc.ops import configure as cfg

        level = _level(system=system, global_=global_, project=project, local=local)
        if show_origin and (unset_ or value is not None):
            raise cfg.ConfigUsageError(
                "`--show-origin` only shows values, not `-u/--unset` or a value"
            )
        ed = _editor()
        if list_:
            if name is not None:
                raise cfg.ConfigUsageError("`config -l` takes no option name")
            for line in cfg.list_lines(ed, level, show_origin=show_origin):
                sys.stdout.write(line + "\n")
            return
        if name is None:
            raise cfg.ConfigUsageError("`config` needs an option name, or `-l` to list all")
        if unset_:
            cfg.unset(ed, name, level or "repo")
        elif value is not None:
            cfg.set_value(ed, name, value, level or "repo")
            section, key = cfg.parse_name(name)
            if section == "feature" and key != "machine":
                # DVC-compat: DVC keeps the key but warns that it ignores it.
                sys.stderr.write(f"warning: `feature.{key}` is not a feature DVC knows\n")
        else:
            found = cfg.get_with_origin(ed, name, level)
            if found is not None:
                prefix = cfg.origin_prefix(ed, found[1]) if show_origin else ""
                sys.stdout.write(prefix + found[0] + "\n")

    cache_app = typer.Typer(help="Cache settings.", no_args_is_help=True)
    app.add_typer(cache_app, name="cache")

    @cache_app.command("dir")
    @handled()
    def cache_dir(
        path: Annotated[str | None, typer.Argument(help="New cache directory.")] = None,
        unset_: Annotated[bool, typer.Option("--unset", "-u", help="Use the default.")] = False,
        system: System = False,
        global_: Global = False,
        project: Project = False,
        local: Local = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Show or set the cache directory (stored relative to `.dvc/`)."""
        from mlvc.ops import configure as cfg

        level = _level(system=system, global_=global_, project=project, local=local)
        ed = _editor()
        if unset_:
            cfg.unset(ed, "cache.dir", level or "repo")
        elif path is not None:
            cfg.set_cache_dir(ed, path, level=level or "repo")
        else:
            sys.stdout.write(cfg.get_cache_dir(ed, level) + "\n")
