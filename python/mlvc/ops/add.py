"""`add`: start tracking files and directories with `.dvc` files."""

from __future__ import annotations

import dataclasses
import glob as globmod
import os
from dataclasses import dataclass, field
from pathlib import Path

import mlvc
from mlvc import gitignore
from mlvc._core import ignored_by
from mlvc.dvcfile import SUFFIX, DvcFile, dvcfile_for
from mlvc.exceptions import MlvcError
from mlvc.ops.checkout import legacy_unchanged
from mlvc.ops.save import save_output
from mlvc.output import Output
from mlvc.progress import Progress
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
    """What `add` tracked, and the files to `git add` for it."""

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


def _check_not_stage_output(repo: Repo, paths: list[Path]) -> None:
    """DVC-compat: a target that is a stage's output, or inside one, is refused (the
    pipeline records it); a `dvc.yaml` or `dvc.lock` that cannot be loaded fails `add`
    too, with 1."""
    from mlvc.exceptions import PipelineError
    from mlvc.revs import stage_outs_at

    try:
        outs = stage_outs_at(repo, None, hashless=True)
    except PipelineError as exc:
        exc.exit_code = 1
        raise
    for path in paths:
        rel = repo.relpath(path)
        for t in outs:
            if rel == t.path or rel.startswith(t.path + "/"):
                err = AddError(
                    f"cannot update `{path.name}`: overlaps with the output `{t.path}` of"
                    f" stage `{t.stage_name}`"
                )
                err.hint = "run the pipeline, or `mlvc commit` to record the output"
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
    # Nothing is written until every target is checked: the workspace's `.dvc`
    # and `dvc.yaml` files are listed once (each listing is a `git ls-files`).
    with repo.read_only_listing():
        tracked_outputs = _tracked_outputs(repo)
        git_index = gitignore.GitIndex(repo.root) if repo.scm is not None else None
        stage_files = [p for files in repo.project_files() for p in files]
        # Targets inside a directory a `.dvc` file tracks, by that directory, in command
        # order up to the directory itself (DVC-compat: each updates only its own entries;
        # once the whole directory is added, later ones change nothing).
        inside: dict[Path, list[Path]] = {}
        whole: set[Path] = set()
        for path in paths:
            tracked = _check_overlap(repo, tracked_outputs, path, dvcfile_for(path))
            if tracked is not None and not os.path.lexists(path):
                _check_gone(repo, path, tracked)  # DVC-compat: drops its entries
            else:
                _check_target(repo, path)
            if tracked is None:
                whole.add(path)
            elif tracked not in whole:
                inside.setdefault(tracked, []).append(path)
            path = tracked or path
            if path.is_dir():
                _check_no_stage_within(path, stage_files, repo)
            # DVC-compat: data git tracks is refused before any target is added.
            if git_index is not None and git_index.holds(repo.relpath(path)):
                raise gitignore.GitTrackedOutputError(repo.root, repo.relpath(path))
            if path not in resolved:
                resolved.append(path)
        _check_disjoint(repo, resolved)
        _check_not_stage_output(repo, resolved)
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
        pending: dict[str, list[tuple[str, str]]] = {}  # manifests not stored
        for path in paths:
            dvcfile_path = dvcfile_for(path)
            # DVC-compat: the whole directory is recorded onto the `.dvc` file as it was
            # before this command, even after targets inside it updated it.
            previous = DvcFile.load(dvcfile_path) if dvcfile_path.exists() else None
            updated = None
            for target in inside.get(path, []):
                updated = _add_inside(
                    repo,
                    target,
                    path,
                    no_commit=no_commit,
                    relink=relink,
                    jobs=jobs,
                    progress=progress,
                    pending=pending,
                )
                if updated is None:  # a DVC 2 record: the directory is added whole
                    whole.add(path)
                    break
            if updated is not None and path not in whole:
                record, link_type = updated
            elif (
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


def _tracked_record(dvcfile: DvcFile, tracked: Path) -> int:
    """The index of the output of `dvcfile` at `tracked`."""
    for i, out in enumerate(dvcfile.outs):
        if Path(os.path.normpath(dvcfile.out_path(out))) == tracked:
            return i
    raise AddError(f"`{dvcfile.path}` does not track `{tracked}`")  # pragma: no cover


def _recorded_entries(
    repo: Repo, out: Output, pending: dict[str, list[tuple[str, str]]]
) -> list[tuple[str, str]]:
    """The `(relpath, md5)` entries of the directory `out` records (none without a hash).

    `pending` holds the manifests this command recorded without storing them
    (`--no-commit`, or an output with `cache: false`).
    """
    if out.md5 is None:
        return []
    if out.md5 in pending:
        return pending[out.md5]
    try:
        return repo.cache.read_manifest(out.md5)
    except (MlvcError, FileNotFoundError) as exc:
        err = AddError(f"could not read `{out.md5}`, the directory object of `{out.path}`: {exc}")
        err.hint = f"run `mlvc pull` or `mlvc fetch` for `{out.path}` first"
        raise err from exc


def _under(rel: str, entries: list[tuple[str, str]]) -> int:
    """How many of `entries` are `rel` or inside it."""
    return sum(1 for p, _h in entries if p == rel or p.startswith(rel + "/"))


def _check_gone(repo: Repo, path: Path, tracked: Path) -> None:
    """Checks a target inside a tracked directory that is not in the workspace: only
    what the directory's record holds can be dropped from it (DVC-compat: DVC raises
    ENOENT for anything else, "output does not exist" when the directory is gone)."""
    _check_not_through_symlink(repo, path)
    _check_not_ignored(repo, path)
    if not tracked.is_dir():
        raise AddError(f"output `{repo.relpath(tracked)}` does not exist")
    dvcfile = DvcFile.load(dvcfile_for(tracked))
    out = dvcfile.outs[_tracked_record(dvcfile, tracked)]
    if out.is_legacy or not out.is_dir:
        return  # added whole (`_add_inside` falls back) or refused there
    if not _under(path.relative_to(tracked).as_posix(), _recorded_entries(repo, out, {})):
        raise FileNotFoundError(2, "No such file or directory", repo.relpath(path))


def _add_inside(
    repo: Repo,
    target: Path,
    tracked: Path,
    *,
    no_commit: bool,
    relink: bool,
    jobs: int,
    progress: Progress | None,
    pending: dict[str, list[tuple[str, str]]],
) -> tuple[Output, str | None] | None:
    """Updates only `target`'s entries in the record of the tracked directory `tracked`
    (`None`: the record is DVC 2's, so the directory is to be added whole).

    DVC-compat (`Output.apply`/`unstage`): the target's file or directory is hashed
    and stored (a directory's own `.dir` object too) and linked back; its old entries
    are replaced by its new ones (dropped when it is gone from the workspace); the rest
    of the directory stays as recorded, changed or not. The new `.dir` object is stored
    and the `.dvc` file rewritten: `nfiles` counted anew, `size` summed when entries
    were only added, kept when the directory hash did not change, dropped otherwise.
    """
    dvcfile_path = dvcfile_for(tracked)
    dvcfile = DvcFile.load(dvcfile_path)
    index = _tracked_record(dvcfile, tracked)
    out = dvcfile.outs[index]
    if out.is_legacy:
        return None
    if out.md5 is not None and not out.is_dir:
        raise AddError(f"cannot modify `{repo.relpath(tracked)}`: it is being tracked as a file")
    if not tracked.is_dir():
        raise AddError(f"output `{repo.relpath(tracked)}` does not exist")
    rel = target.relative_to(tracked).as_posix()
    recorded = _recorded_entries(repo, out, pending)
    replaced = _under(rel, recorded)
    kept = [(p, h) for p, h in recorded if p != rel and not p.startswith(rel + "/")]
    store = not no_commit and out.cache
    link_type = None
    added_size: int | None = None
    if target.exists():
        if target.is_dir() and not store:
            tree = repo.hash_tree(target, jobs=jobs, progress=progress)
            kept.extend((f"{rel}/{p}", h) for p, h in mlvc.parse_manifest(tree.manifest))
            added_size = tree.size
        else:
            saved = save_output(
                repo, target, store=store, relink=relink, jobs=jobs, progress=progress
            )
            if saved.nfiles is None:
                kept.append((rel, saved.md5))
            else:
                kept.extend((f"{rel}/{p}", h) for p, h in repo.cache.read_manifest(saved.md5))
            added_size, link_type = saved.size, saved.link_type
    elif not replaced:
        raise FileNotFoundError(2, "No such file or directory", repo.relpath(target))
    data, md5 = mlvc.build_manifest(kept)
    if store:
        repo.cache.insert_bytes(md5, data)
    else:
        pending[md5] = kept
    size: int | None = None
    if not replaced and out.size and added_size is not None:
        size = out.size + added_size  # only added: DVC sums the sizes
    elif md5 == out.md5:
        size = out.size
    record = dataclasses.replace(
        out, md5=md5, size=size, nfiles=len(kept), isexec=False, hash_name="md5"
    )
    dvcfile.outs[index] = record
    dvcfile.save()
    return record, link_type
