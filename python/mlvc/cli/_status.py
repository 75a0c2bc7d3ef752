"""`status` and `data status`: the bodies behind both ways of running them.

The typer commands (`mlvc.cli.data`, `mlvc.cli.inspect`) and the direct lane
(`mlvc.cli._direct`) call these with every parameter, so the two ways cannot
drift apart. Nothing here imports typer.
"""

from __future__ import annotations

import json
import sys

from mlvc.cli import blank_means_all
from mlvc.cli._errors import handled
from mlvc.cli._progress import Meter
from mlvc.exceptions import PipelineError
from mlvc.progress import Tally

# DVC-compat: `status`'s words for a project that tracks nothing yet.
EMPTY_PROJECT = (
    "There are no data or pipelines tracked in this project yet.\n"
    "See <https://dvc.org/doc/start> to get started!\n"
)


@handled()
def show_status(
    *,
    targets: list[str] | None,
    as_json: bool,
    cloud: bool,
    remote: str | None,
    all_branches: bool,
    all_tags: bool,
    all_commits: bool,
    with_deps: bool,
    recursive: bool,
    jobs: int | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Prints what `status` finds; exits 1 with `quiet` when anything is out of date."""
    from mlvc.ops import status as st
    from mlvc.repo import Repo

    repo = Repo.find()
    if cloud or remote is not None:
        from mlvc.ops import transfer
        from mlvc.revs import RevScope

        scope = RevScope(all_branches=all_branches, all_tags=all_tags, all_commits=all_commits)

        diff = transfer.cloud_status(
            repo,
            blank_means_all(targets),
            remote=remote,
            scope=scope,
            selection=transfer.Selection(with_deps=with_deps, recursive=recursive),
        )
        if as_json:
            sys.stdout.write(json.dumps(diff) + "\n")
            return
        if quiet:
            # DVC-compat: `-q` prints nothing and exits 1 when anything differs.
            if diff:
                sys.exit(1)
            return
        if not diff and not any(repo.project_files()):
            # DVC-compat: with nothing tracked, no remote is needed to say so.
            sys.stdout.write(EMPTY_PROJECT)
            return
        # DVC-compat: the clean message names the remote; `None` when the outputs
        # asked about needed none (all `push: false`, or naming their own).
        name = repo.config.chosen_remote(remote)
        clean = f"Cache and remote '{name}' are in sync.\n"
        sys.stdout.write(transfer.cloud_status_text(diff) if diff else clean)
        return
    if all_branches or all_tags or all_commits or jobs is not None:
        from mlvc.revs import ScopeError

        flags = [
            flag
            for flag, on in (
                ("--all-branches", all_branches),
                ("--all-tags", all_tags),
                ("--all-commits", all_commits),
                ("--jobs", jobs is not None),
            )
            if on
        ]
        # DVC-compat: DVC's message for these flags without `-c`; exit 1.
        raise ScopeError(
            "The following options are meaningless for local status: " + ", ".join(flags),
            hint="add `-c` to compare the cache with a remote, or drop them",
        )
    try:
        with Meter("checking", enabled=not quiet) as meter:
            repo.hashing_progress = Tally(meter)
            found = st.full_status(
                repo,
                blank_means_all(targets),
                with_deps=with_deps,
                recursive=recursive,
                warn=None if quiet else sys.stderr.write,
            )
    except PipelineError as exc:
        exc.exit_code = 1  # DVC-compat: `status` reports its failures with 1
        raise
    if as_json:
        sys.stdout.write(json.dumps(found) + "\n")
    elif not quiet:
        sys.stdout.write(EMPTY_PROJECT if found.empty_project else st.render_text(found))
    if quiet and found:
        sys.exit(1)


@handled()
def show_data_status(
    *,
    targets: list[str] | None,
    as_json: bool,
    granular: bool,
    unchanged: bool,
    untracked_files: bool,
    not_in_remote: bool,
    remote: str | None,
    no_remote_refresh: bool,
    jobs: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Prints what `data status` finds (`untracked_files`: DVC's `--untracked-files=all`)."""
    from mlvc.cli._errors import broken_files_exit_255
    from mlvc.ops.data_status import as_text, data_status
    from mlvc.repo import Repo

    repo = Repo.find()
    with broken_files_exit_255(), Meter("checking", enabled=not quiet) as meter:
        repo.hashing_progress = Tally(meter)
        found = data_status(
            repo,
            list(targets or []),
            granular=granular,
            untracked_files=untracked_files,
            not_in_remote=not_in_remote,
            remote=remote,
            remote_refresh=not no_remote_refresh,
            jobs=jobs,
        )
    if as_json:
        body = found.as_json(unchanged=unchanged, untracked=untracked_files)
        sys.stdout.write(json.dumps(body) + "\n")
    elif not quiet:
        text = as_text(found, unchanged=unchanged, untracked=untracked_files)
        if text:
            sys.stdout.write(text)
