"""Maintenance commands: gc, remove, move, unprotect, version (alias doctor)."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlvc.cli._errors import handled
from mlvc.cli._options import (
    AllBranches,
    AllCommits,
    AllTags,
    AnyJobs,
    Num,
    Quiet,
    Remote,
    Rev,
    Verbose,
    default_jobs,
)
from mlvc.cli._output import say as _say

if TYPE_CHECKING:
    from mlvc.cli import CommandSink


def _confirm_gc() -> None:
    """Asks before deleting, as DVC does: a `y`/`yes` (any case) goes on."""
    from mlvc.cli._prompt import confirm

    answer = confirm("Are you sure you want to proceed?")
    if answer is None:
        # DVC-compat: end of input means no (exit 1); DVC says nothing, mlvc says why.
        sys.stderr.write(
            "\nerror: no answer on stdin, nothing was deleted\n"
            "hint: rerun with `-f` to delete without asking, or `--dry` to only list\n"
        )
    if not answer:
        raise typer.Exit(1)


def register(app: "CommandSink") -> None:
    """Adds the commands to the app."""

    @app.command("gc")
    @handled()
    def gc_command(
        workspace: Annotated[
            bool, typer.Option("--workspace", "-w", help="Keep data the workspace uses.")
        ] = False,
        rev: Rev = None,
        num: Num = None,
        all_branches: AllBranches = False,
        all_tags: AllTags = False,
        all_commits: AllCommits = False,
        date: Annotated[
            str | None,
            typer.Option(
                "--date",
                metavar="YYYY-MM-DD",
                help="Also every commit made on that date or later.",
            ),
        ] = None,
        all_experiments: Annotated[
            bool,
            typer.Option("--all-experiments", help="Also every experiment (`refs/exps/...`)."),
        ] = False,
        not_in_remote: Annotated[
            bool,
            typer.Option("--not-in-remote", help="Also delete used data the remote already holds."),
        ] = False,
        cloud: Annotated[
            bool, typer.Option("--cloud", "-c", help="Also delete unused data on the remote.")
        ] = False,
        remote: Remote = None,
        skip_failed: Annotated[
            bool, typer.Option("--skip-failed", help="Skip revisions that cannot be read.")
        ] = False,
        force: Annotated[bool, typer.Option("--force", "-f", help="Do not ask.")] = False,
        jobs: AnyJobs = 0,
        projects: Annotated[
            list[Path] | None,
            typer.Option(
                "--projects",
                "-p",
                metavar="PATH",
                help="Also keep what these repositories (sharing the cache) use.",
            ),
        ] = None,
        dry: Annotated[bool, typer.Option("--dry", help="Only list what would go.")] = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Delete cached data that none of the kept revisions uses."""
        from mlvc.ops.gc import check_scope, describe, gc
        from mlvc.repo import Repo
        from mlvc.revs import RevScope, commit_date_stamp

        # DVC-compat: `-n` defaults to 1 (`--rev` turns 0 into 1 too).
        scope = RevScope(
            workspace=workspace,
            all_branches=all_branches,
            all_tags=all_tags,
            all_commits=all_commits,
            revs=(rev,) if rev else (),
            num=(num or 1) if rev or num is None else num,
            all_experiments=all_experiments,
            commit_date=date,
        )
        # DVC-compat: outside a repository gc fails with 253 before looking at its flags.
        repo = Repo.find()
        check_scope(scope, num=num, cloud=cloud, not_in_remote=not_in_remote)
        if date is not None:
            commit_date_stamp(date)  # refuse a malformed date before asking anything
        if remote is not None and not (cloud or not_in_remote):
            sys.stderr.write(
                "warning: `--remote` has no effect without `--cloud` or `--not-in-remote`\n"
            )
        what = describe(scope, num=num, not_in_remote=not_in_remote, projects=projects or ())
        if not quiet:
            # DVC-compat: DVC's warning before deleting anything.
            sys.stderr.write(f"warning: This will remove all cache except items used in {what}\n")
        if not dry and not force:
            _confirm_gc()

        def skipped(rev: str) -> None:
            # DVC-compat: DVC's warning for `--skip-failed`.
            sys.stderr.write(f"warning: Failed to collect '{rev}', skipping\n")

        def missing(dir_ids: list[str]) -> None:
            more = f" and {len(dir_ids) - 1} more" if len(dir_ids) > 1 else ""
            sys.stderr.write(
                f"warning: directory object `{dir_ids[0]}`{more} is in no cache or remote;"
                " the files only it listed are not kept\n"
            )

        swept = gc(
            repo,
            scope,
            cloud=cloud,
            remote=remote,
            dry=dry,
            jobs=default_jobs(jobs),
            not_in_remote=not_in_remote,
            projects=projects or (),
            on_skip=skipped if skip_failed else None,
            on_missing=missing,
        )
        for s in swept:
            if dry:
                # DVC-compat: `--dry` lists each object as "Removing", `.dir` objects
                # first, and then counts them as removed, with the same words as a run.
                dirs_first = sorted(s.objects, key=lambda p: not p.name.endswith(".dir"))
                for p in dirs_first + s.temp_files:
                    _say(quiet, f"Removing {p}\n")
            if s.location == "remote":
                if s.objects:
                    _say(quiet, f"Removed {len(s.objects)} objects from remote.\n")
                else:
                    _say(quiet, "No unused cache to remove from remote.\n")
            elif s.objects:
                _say(quiet, f"Removed {len(s.objects)} objects from {s.location} cache.\n")
            else:
                _say(quiet, f"No unused '{s.location}' cache to remove.\n")
            if s.temp_files:
                _say(quiet, f"Removed {len(s.temp_files)} stale temporary files from {s.root}.\n")

    @app.command("remove")
    @handled()
    def remove_command(
        targets: Annotated[
            list[str],
            typer.Argument(
                help="`.dvc` files or stages (`name`, `path/dvc.yaml:name`, a whole "
                "`dvc.yaml`) to remove."
            ),
        ],
        outs: Annotated[
            bool, typer.Option("--outs", help="Also delete their outputs from the workspace.")
        ] = False,
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Stop tracking data or drop stages: delete `.dvc` files, remove stages from
        `dvc.yaml` and `dvc.lock`, and their outputs' `.gitignore` entries."""
        from mlvc.ops.remove import remove
        from mlvc.repo import Repo

        repo = Repo.find()
        remove(repo, targets, outs=outs, warn=None if quiet else sys.stderr.write)

    @app.command("move")
    @handled()
    def move_command(
        src: Annotated[str, typer.Argument(help="Tracked file or directory.")],
        dst: Annotated[str, typer.Argument(help="New path (or an existing directory).")],
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Move tracked data together with its `.dvc` file."""
        from mlvc.ops.move import move
        from mlvc.repo import Repo

        repo = Repo.find()
        result = move(repo, src, dst, warn=None if quiet else sys.stderr.write)
        from mlvc.cli._gitstage import stage_or_hint

        stage_or_hint(repo, result.to_stage, quiet)

    @app.command("unprotect")
    @handled()
    def unprotect_command(
        targets: Annotated[list[str], typer.Argument(help="Files or directories.")],
        quiet: Quiet = False,
        verbose: Verbose = False,
    ) -> None:
        """Replace linked checkouts with private, writable copies."""
        from mlvc.ops.unprotect import unprotect
        from mlvc.repo import Repo

        unprotect(Repo.find(), targets)

    def version_command(quiet: Quiet = False, verbose: Verbose = False) -> None:
        """Show mlvc's version and what this machine and repository support."""
        # DVC-compat: `-q` is accepted and the report is printed all the same.
        sys.stdout.write(version_report())

    app.command("version")(handled()(version_command))
    app.command("doctor", help="Alias of `version`.")(handled()(version_command))


def _filesystem_of(path: Path) -> str:
    """`<fstype> on <device>` for the mount holding `path`, from /proc/mounts."""
    best = ("", "unknown", "unknown")
    try:
        with open("/proc/mounts", encoding="utf-8") as f:
            for line in f:
                dev, mnt, fstype = line.split()[:3]
                mnt = mnt.replace("\\040", " ")
                target = str(path.absolute())
                inside = target == mnt or target.startswith(mnt.rstrip("/") + "/")
                if inside and len(mnt) >= len(best[0]):
                    best = (mnt, fstype, dev)
    except OSError:
        return "unknown"
    return f"{best[1]} on {best[2]}"


def version_report() -> str:
    """mlvc's counterpart of DVC's `dvc version` block. Cheap: no git, no hashing."""
    import platform
    from importlib import metadata

    import mlvc

    lines = [f"mlvc version: {mlvc.__version__}", "-" * 25]
    lines.append(f"Platform: Python {platform.python_version()} on {platform.platform()}")
    lines.append("Subprojects:")
    for dist in ("typer", "PyYAML"):
        try:
            lines.append(f"\t{dist} = {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            lines.append(f"\t{dist} = not installed")
    lines.append("Supports:\n\tlocal")
    try:
        from mlvc.repo import Repo

        repo = Repo.find()
    except Exception:
        return "\n".join(lines) + "\n"
    cache_dir = repo.cache_dir
    if cache_dir.is_dir():
        lines.append(f"Cache types: {', '.join(mlvc.supported_link_types(cache_dir, repo.root))}")
        lines.append(f"Cache directory: {_filesystem_of(cache_dir)}")
    else:
        # DVC-compat: a report creates no cache; DVC links to its explanation instead.
        lines.append("Cache types: <https://error.dvc.org/no-dvc-cache>")
    lines.append("Caches: local")
    remotes = repo.config.remotes()
    lines.append(f"Remotes: {', '.join(remotes) if remotes else 'None'}")
    lines.append(f"Workspace directory: {_filesystem_of(repo.root)}")
    lines.append(f"Repo: {_repo_kind(repo.root, repo.config.get_bool('core', 'no_scm'))}")
    return "\n".join(lines) + "\n"


def _repo_kind(root: Path, no_scm: bool) -> str:
    """DVC's wording: `dvc, git`, `dvc (subdir), git` or `dvc (no_scm)`."""
    if no_scm:
        return "dvc (no_scm)"
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            return "dvc, git" if candidate == root else "dvc (subdir), git"
    return "dvc (no_scm)"
