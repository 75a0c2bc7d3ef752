"""`add`, `commit` and `checkout`: the bodies behind both ways of running them.

The typer commands (`mlvc.cli.data`) and the direct lane (`mlvc.cli._direct`)
call these with every parameter, so the two ways cannot drift apart. Nothing
here imports typer: scripts run these commands in loops, and typer's import
with the parser it builds is about 50 ms of each run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mlvc.cli import blank_means_all
from mlvc.cli._errors import handled
from mlvc.cli._output import say, warn


@handled()
def run_add(
    *,
    targets: list[str],
    no_commit: bool,
    use_glob: bool,
    out: str | None,
    to_remote: bool,
    remote: str | None,
    remote_jobs: int | None,
    force: bool,
    no_relink: bool,
    jobs: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Tracks data files or directories with `.dvc` files."""
    from mlvc.cli._gitstage import stage_or_hint
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
    stage_or_hint(repo, result.to_stage, quiet)


@handled()
def run_commit(
    *,
    targets: list[str] | None,
    force: bool,
    with_deps: bool,
    recursive: bool,
    no_relink: bool,
    jobs: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Records changed outputs in their `.dvc` files and the cache."""
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
            echo=lambda t: say(quiet, t),
            with_deps=with_deps,
            recursive=recursive,
            relink=not no_relink,
            ask=None if force else ask,
            warn=(lambda _: None) if quiet else warn,
        )
    for path in changed:
        if path.name != "dvc.lock":
            say(quiet, f"Updated {repo.relpath(path)}\n")


@handled()
def run_checkout(
    *,
    targets: list[str] | None,
    force: bool,
    relink: bool,
    summary: bool,
    with_deps: bool,
    recursive: bool,
    allow_missing: bool,
    jobs: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Restores tracked data from the cache."""
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
