"""`add`: start tracking files and directories with `.dvc` files."""

from __future__ import annotations

import glob as globmod
import os
from dataclasses import dataclass, field
from pathlib import Path

from mlvc import gitignore
from mlvc._core import ignored_by
from mlvc.dvcfile import SUFFIX, DvcFile, dvcfile_for
from mlvc.exceptions import MlvcError
from mlvc.ops.checkout import legacy_unchanged
from mlvc.ops.save import Progress, save_output
from mlvc.output import Output
from mlvc.repo import DVC_DIR, Repo


class AddError(MlvcError):
    """A target that cannot be added."""

    hint: str | None = None


@dataclass
class Added:
    """One target that was added."""

    path: Path
    dvcfile: Path
    out: Output
    link_type: str | None = None


@dataclass
class AddResult:
    added: list[Added] = field(default_factory=list)
    # Files to `git add` (the `.dvc` files and changed `.gitignore` files).
    to_stage: list[Path] = field(default_factory=list)


def _expand(targets: list[str], cwd: Path, use_glob: bool) -> list[Path]:
    paths: list[Path] = []
    for t in targets:
        if use_glob:
            matches = sorted(globmod.glob(t, root_dir=cwd, recursive=True))
            if not matches:
                raise AddError(f"glob `{t}` matches nothing")
            paths.extend(Path(os.path.normpath(cwd / m)) for m in matches)
        else:
            paths.append(Path(os.path.normpath(cwd / t)))
    return paths


def _tracked_outputs(repo: Repo) -> list[tuple[Path, Path]]:
    """`(dvcfile, output path)` of every output the workspace's `.dvc` files track."""
    tracked = []
    for other in repo.dvcfiles():
        dvcfile = DvcFile.load(other)
        for out in dvcfile.outs:
            tracked.append((other, Path(os.path.normpath(dvcfile.out_path(out)))))
    return tracked


def _check_overlap(
    repo: Repo, tracked_outputs: list[tuple[Path, Path]], path: Path, own_dvcfile: Path
) -> Path | None:
    """Checks a target against outputs other `.dvc` files track.

    DVC-compat: a path inside a tracked directory means "update that directory",
    so its path is returned; a target containing another output is refused.
    """
    for other, tracked in tracked_outputs:
        if other == own_dvcfile:
            continue
        if tracked in path.parents and dvcfile_for(tracked) == other:
            return tracked
        if path == tracked or tracked in path.parents or path in tracked.parents:
            err = AddError(
                f"cannot add `{repo.relpath(path)}`: it overlaps output "
                f"`{repo.relpath(tracked)}` of `{repo.relpath(other)}`"
            )
            err.hint = (
                f"to include it, run `mlvc remove {repo.relpath(other)}`, then "
                f"`mlvc add {repo.relpath(path)}`"
            )
            raise err
    return None


def _check_not_ignored(repo: Repo, path: Path) -> None:
    """DVC-compat: an output `.dvcignore` hides (itself or a directory above it) is
    refused; a sub-repository's files are not hidden here (DVC checks outputs with
    `ignore_subrepos=False`)."""
    rule = ignored_by(repo.root, path)
    if rule is not None:
        file, line, pattern = rule
        err = AddError(
            f"`{repo.relpath(path)}` is ignored by `{repo.relpath(Path(file))}:{line}:{pattern}`"
        )
        err.hint = "change the rule in `.dvcignore` to track it"
        raise err


def _check_no_stage_within(path: Path, stage_files: list[Path], repo: Repo) -> None:
    """DVC-compat: a directory output may not hold a `.dvc` or `dvc.yaml` file of the
    repository (DVC's `StagePathAsOutputError`)."""
    for found in stage_files:
        if path in found.parents:
            err = AddError(f"`{repo.relpath(found)}` is within the output `{repo.relpath(path)}`")
            err.hint = f"move `{repo.relpath(found)}` out of `{repo.relpath(path)}`, or remove it"
            raise err


def _check_target(repo: Repo, path: Path) -> None:
    if not repo.is_inside(path) or path == repo.root:
        raise AddError(f"`{path}` is outside the repository `{repo.root}` (or is its root)")
    rel = repo.relpath(path)
    parts = rel.split("/")
    if DVC_DIR in parts or ".git" in parts:
        raise AddError(f"`{rel}` is inside `{DVC_DIR}` or `.git`, which cannot be tracked")
    if path.name.endswith(SUFFIX) and path.is_file():
        raise AddError(f"`{rel}` is a `.dvc` file; add the data it describes instead")
    if not os.path.lexists(path):
        raise FileNotFoundError(2, "No such file or directory", rel)
    _check_not_through_symlink(repo, path)
    _check_not_ignored(repo, path)


def _check_not_through_symlink(repo: Repo, path: Path) -> None:
    """DVC-compat: a symlink to a directory, or a path inside one, is refused
    (its files would be tracked under a name that is not theirs)."""
    link = path if path.is_symlink() and path.is_dir() else None
    parent = path.parent
    while link is None and parent != repo.root and repo.root in parent.parents:
        if parent.is_symlink():
            link = parent
        parent = parent.parent
    if link is not None:
        err = AddError(
            f"cannot add `{repo.relpath(path)}`: `{repo.relpath(link)}` is a symlink to a "
            "directory, and files inside symlinked directories cannot be tracked"
        )
        err.hint = f"add the directory `{repo.relpath(link)}` points to instead"
        raise err


def _check_disjoint(repo: Repo, paths: list[Path]) -> None:
    """DVC-compat: one `add` refuses targets inside one another (the outer one's
    record would hold the inner one's `.dvc` file, or miss it)."""
    for outer in paths:
        for inner in paths:
            if outer in inner.parents:
                err = AddError(
                    f"cannot add `{repo.relpath(outer)}`: it overlaps `{repo.relpath(inner)}`, "
                    "another target of this command"
                )
                err.hint = f"add only `{repo.relpath(outer)}`: it tracks everything inside it"
                raise err


def add(
    repo: Repo,
    targets: list[str],
    *,
    cwd: Path | None = None,
    no_commit: bool = False,
    use_glob: bool = False,
    out: str | None = None,
    force: bool = False,
    jobs: int = 0,
    progress: Progress | None = None,
    relink: bool = True,
    to_remote: bool = False,
    remote: str | None = None,
    remote_jobs: int | None = None,
) -> AddResult:
    """Hashes each target, stores it in the cache and writes `<target>.dvc`.

    DVC-compat: without `relink` (`--no-relink`) the workspace is left exactly as it
    is: the cache gets a copy of the data, and nothing in the workspace is replaced by
    a link to the cache (with `cache.type` hardlink or symlink) or rewritten (a copy's
    mode stays as it was).
    """
    cwd = (cwd or Path.cwd()).absolute()
    _check_options(targets, use_glob, no_commit, out, to_remote, remote, remote_jobs)
    result = AddResult()
    paths = _expand(targets, cwd, use_glob)
    if to_remote:
        dest = Path(os.path.normpath(cwd / out)) if out is not None else None
        return _add_to_remote(repo, paths[0], dest, cwd, remote, remote_jobs or 0, progress)
    if out is not None:
        return _add_to(repo, paths[0], Path(os.path.normpath(cwd / out)), force, jobs, progress)
    resolved: list[Path] = []
    # Read the workspace's `.dvc` files once, not once per target.
    tracked_outputs = _tracked_outputs(repo)
    git_index = gitignore.GitIndex(repo.root) if repo.scm is not None else None
    stage_files: list[Path] | None = None  # read when a directory is a target
    for path in paths:
        _check_target(repo, path)
        path = _check_overlap(repo, tracked_outputs, path, dvcfile_for(path)) or path
        if path.is_dir():
            if stage_files is None:
                stage_files = [p for files in repo.project_files() for p in files]
            _check_no_stage_within(path, stage_files, repo)
        # DVC-compat: data git tracks is refused before any target is added.
        if git_index is not None and git_index.holds(repo.relpath(path)):
            raise gitignore.GitTrackedOutputError(repo.root, repo.relpath(path))
        if path not in resolved:
            resolved.append(path)
    _check_disjoint(repo, resolved)
    paths = resolved
    # DVC-compat: without git, no `.gitignore` is written.
    ignores = None
    if repo.scm is not None:
        ignores = gitignore.GitIgnores(repo.root, [*paths, *map(dvcfile_for, paths)])
        for path in paths:
            if ignores.ignores(dvcfile_for(path)):
                # DVC-compat: a `.dvc` file git would ignore is refused.
                err = AddError(
                    f"bad DVC file name `{repo.relpath(dvcfile_for(path))}`: git ignores it"
                )
                err.hint = (
                    "change the rule in `.gitignore` that matches it, or add the data elsewhere"
                )
                raise err
    with repo.lock():
        for path in paths:
            dvcfile_path = dvcfile_for(path)
            previous = DvcFile.load(dvcfile_path) if dvcfile_path.exists() else None
            if (
                previous is not None
                and len(previous.outs) == 1
                and legacy_unchanged(repo, previous.outs[0], path, jobs)
            ):
                # DVC-compat: re-adding a DVC 2 output whose data did not change leaves
                # its `.dvc` file (and objects) as they are; a changed one becomes DVC 3's.
                record, link_type = previous.outs[0], None
            else:
                saved = save_output(
                    repo, path, store=not no_commit, relink=relink, jobs=jobs, progress=progress
                )
                record, link_type = saved.output(path.name), saved.link_type
                if previous is not None and previous.outs:
                    old = previous.outs[0]
                    record.raw = old.raw
                    record.cache, record.push, record.remote = old.cache, old.push, old.remote
                    dvcfile = DvcFile(dvcfile_path, [record], previous.raw, previous.text)
                else:
                    dvcfile = DvcFile(dvcfile_path, [record], {"outs": []})
                dvcfile.save()
            result.to_stage.append(dvcfile_path)
            changed = gitignore.add_entry(path, ignores) if ignores is not None else None
            if changed is not None and changed not in result.to_stage:
                result.to_stage.append(changed)
            result.added.append(Added(path, dvcfile_path, record, link_type))
    return result


def _check_options(
    targets: list[str],
    use_glob: bool,
    no_commit: bool,
    out: str | None,
    to_remote: bool,
    remote: str | None,
    remote_jobs: int | None,
) -> None:
    """DVC-compat: the option clashes DVC refuses, with its words."""
    invalid = None
    if to_remote or out is not None:
        message = "{} can't be used with " + ("--to-remote" if to_remote else "--out")
        if len(targets) != 1:
            invalid = "multiple targets"
        elif use_glob:
            invalid = "--glob option"
        elif no_commit:
            invalid = "--no-commit option"
    else:
        message = "{} can't be used without --to-remote"
        if remote is not None:
            invalid = "--remote"
        elif remote_jobs:
            invalid = "--remote-jobs"
    if invalid is not None:
        raise AddError(message.format(invalid))


def _add_to_remote(
    repo: Repo,
    source: Path,
    dest: Path | None,
    cwd: Path,
    remote: str | None,
    jobs: int,
    progress: Progress | None,
) -> AddResult:
    """`add --to-remote`: stores the data straight on a remote and writes its `.dvc` file.

    Nothing enters the cache and the workspace is left alone (no `.gitignore` entry
    either, as DVC). The `.dvc` file goes beside the data when it is in the
    repository, else into the current directory (or at `--out`).
    """
    from mlvc.ops.transfer import remote_name
    from mlvc.remote import open_remote

    if not os.path.lexists(source):
        raise FileNotFoundError(2, "No such file or directory", str(source))
    if dest is None:
        dest = source if repo.is_inside(source) else cwd / source.name
    if not repo.is_inside(dest) or dest == repo.root:
        raise AddError(f"`--out` `{dest}` must be inside the repository `{repo.root}`")
    dvcfile_path = dvcfile_for(dest)
    _check_not_through_symlink(repo, dest)
    _check_not_ignored(repo, dest)
    _check_overlap(repo, _tracked_outputs(repo), dest, dvcfile_path)
    if repo.scm is not None and gitignore.GitIndex(repo.root).holds(repo.relpath(dest)):
        raise gitignore.GitTrackedOutputError(repo.root, repo.relpath(dest))
    backend = open_remote(repo.config, remote_name(repo, remote, None))
    result = AddResult()
    with repo.lock():
        out = backend.store(source, jobs=jobs, progress=progress).output(dest.name)
        DvcFile(dvcfile_path, [out], {"outs": []}).save()
        result.to_stage.append(dvcfile_path)
        result.added.append(Added(dest, dvcfile_path, out))
    return result


def _recorded_as_is(repo: Repo, dest: Path, dvcfile_path: Path) -> bool:
    """Whether `dest` is data its own `.dvc` file tracks, unchanged since recorded.

    DVC-compat: `add -o` replaces a tracked directory without `--force` (DVC checks
    only for `DEST/<source name>`); mlvc does so only when the directory is as
    recorded (so in the cache), never losing a change.
    """
    from mlvc.ops.status import workspace_state

    if not dvcfile_path.is_file():
        return False
    dvcfile = DvcFile.load(dvcfile_path)
    return any(
        dvcfile.out_path(out) == dest and out.md5 and workspace_state(repo, dvcfile, out) is None
        for out in dvcfile.outs
    )


def _add_to(
    repo: Repo, source: Path, dest: Path, force: bool, jobs: int, progress: Progress | None
) -> AddResult:
    """`add SOURCE -o DEST`: stores data from anywhere and checks it out at DEST in the repo."""
    if not os.path.lexists(source):
        raise FileNotFoundError(2, "No such file or directory", str(source))
    if not repo.is_inside(dest) or dest == repo.root:
        raise AddError(f"`--out` `{dest}` must be inside the repository `{repo.root}`")
    if not dest.parent.is_dir():
        # DVC-compat: DVC refuses ("stage working dir ... does not exist").
        raise AddError(
            f"`--out {repo.relpath(dest)}`: the directory `{repo.relpath(dest.parent)}`"
            " does not exist; create it first"
        )
    dvcfile_path = dvcfile_for(dest)
    if (
        os.path.lexists(dest)
        and not force
        and (
            # DVC-compat: a file is refused; a directory only when `DEST/<source name>`
            # exists (or here, when replacing it would lose a change).
            not dest.is_dir()
            or os.path.lexists(dest / source.name)
            or not _recorded_as_is(repo, dest, dvcfile_path)
        )
    ):
        raise AddError(f"`{repo.relpath(dest)}` already exists; pass `--force` to replace it")
    _check_not_through_symlink(repo, dest)
    _check_not_ignored(repo, dest)
    _check_overlap(repo, _tracked_outputs(repo), dest, dvcfile_path)
    if repo.scm is not None and gitignore.GitIndex(repo.root).holds(repo.relpath(dest)):
        raise gitignore.GitTrackedOutputError(repo.root, repo.relpath(dest))
    result = AddResult()
    with repo.lock():
        if source.is_dir():
            tree = repo.cache.add_tree(source, jobs=jobs, progress=progress)
            out = Output(path=dest.name, md5=tree.hash, size=tree.size, nfiles=tree.nfiles)
            res = repo.cache.checkout_tree(
                tree.hash,
                dest,
                link_types=repo.link_types,
                force=True,
                jobs=jobs,
                state=repo.state,
            )
        else:
            fh = repo.cache.add_file(source)
            out = Output(path=dest.name, md5=fh.hash, size=fh.size, isexec=fh.isexec)
            res = repo.cache.checkout_files(
                [(dest, fh.hash, fh.isexec)],
                link_types=repo.link_types,
                force=True,
                state=repo.state,
            )
        DvcFile(dvcfile_path, [out], {"outs": []}).save()
        result.to_stage.append(dvcfile_path)
        changed = (
            gitignore.add_entry(dest, gitignore.GitIgnores(repo.root))
            if repo.scm is not None
            else None
        )
        if changed is not None:
            result.to_stage.append(changed)
        result.added.append(Added(dest, dvcfile_path, out, res.link_type))
    return result
