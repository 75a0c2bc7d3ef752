"""What a revision tracks: its `.dvc` files, their outputs and the objects they use.

Revisions are read straight from git objects (no checkout). `None` stands for
the workspace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlvc._core import Git
from mlvc.dvcfile import SUFFIX, DvcFile
from mlvc.exceptions import GitError, MlvcError
from mlvc.output import Output
from mlvc.repo import DVC_DIR, Repo, outside_subrepos, subrepo_roots
from mlvc.spawn import Spawned

# `mlvc.pipeline.model.PROJECT_FILE`, named here so that a revision without one
# never loads the pipeline modules.
PIPELINE_FILE_NAME = "dvc.yaml"


@dataclass(frozen=True)
class TrackedOut:
    """One output as a revision records it."""

    rev: str | None
    dvcfile: str  # repo-relative path of the `.dvc` file
    path: str  # repo-relative path of the output, `/`-separated
    out: Output
    # The stage it belongs to, as DVC names it (`train`, `sub/dvc.yaml:train`, `x.dvc`);
    # empty means `dvcfile` (a `.dvc` file).
    stage: str = ""
    kind: str = "outs"  # `outs`, `metrics` or `plots` (as `dvc.yaml` lists it)
    # A path inside a directory output (relative to it): only its files are meant,
    # as when a file of a tracked directory is a push/fetch/pull target. "": all.
    within: str = ""

    @property
    def stage_name(self) -> str:
        return self.stage or self.dvcfile

    def within_of(self, path: str) -> str:
        """Where repo path `path` lies inside this output ("" when it does not, or is it)."""
        return path[len(self.path) + 1 :] if path.startswith(self.path + "/") else ""

    def covers(self, relpath: str) -> bool:
        """Whether a file of the directory output, at `relpath` inside it, is meant."""
        w = self.within
        return not w or relpath == w or relpath.startswith(w + "/")

    def needs(self, relpath: str) -> bool:
        """Whether a file of the directory output, at `relpath` inside it, is to be moved:
        one it covers, or the one `within` goes through (`a.txt` for `a.txt/x`).
        """
        return self.covers(relpath) or self.within.startswith(relpath + "/")


def git_files_at(scm: Git, rev: str, sub: str) -> list[str]:
    """The files of the repository at `sub` (below the git root; "" for the root) in
    commit `rev`, as paths from the git root, without those of sub-repositories
    (see `mlvc.repo.outside_subrepos`)."""
    cut = len(sub) + 1 if sub else 0
    listed = [path[cut:] for path, _mode, _blob in scm.list_files(rev, sub)]
    inner = subrepo_roots(listed)
    return [sub + "/" + p if sub else p for p in outside_subrepos(listed, inner.__contains__)]


def dvcfiles_at(repo: Repo, rev: str | None) -> list[DvcFile]:
    """The `.dvc` files of a revision (`None`: the workspace)."""
    if rev is None:
        return [DvcFile.load(p) for p in repo.dvcfiles()]
    scm = repo.scm
    if scm is None:
        raise ValueError("revisions need a git repository (this one is `--no-scm`)")
    git_root = Path(scm.workdir or repo.root)
    sub = Path(repo.root).relative_to(git_root).as_posix()  # "." unless a git subdirectory
    sub = "" if sub == "." else sub
    found = []
    for path in git_files_at(scm, rev, sub):
        if not path.endswith(SUFFIX) or f"/{DVC_DIR}/" in f"/{path}":
            continue
        data = scm.read_file(rev, path)
        if data is None:
            continue
        found.append(DvcFile.loads(data.decode("utf-8"), git_root / path))
    return found


def _has_pipeline_files(repo: Repo, rev: str | None) -> bool:
    """Whether a revision (`None`: the workspace) has a `dvc.yaml`, from its file listing."""
    if rev is None:
        return bool(repo.pipeline_files())
    scm = repo.scm
    if scm is None:
        return True  # let the caller say what is wrong
    git_root = Path(scm.workdir or repo.root)
    sub = Path(repo.root).relative_to(git_root).as_posix()
    sub = "" if sub == "." else sub
    return any(
        p.rpartition("/")[2] == PIPELINE_FILE_NAME and f"/{DVC_DIR}/" not in f"/{p}"
        for p in git_files_at(scm, rev, sub)
    )


def outs_at(repo: Repo, rev: str | None) -> list[TrackedOut]:
    """Every output recorded at a revision."""
    outs = []
    for dvcfile in dvcfiles_at(repo, rev):
        for out in dvcfile.outs:
            outs.append(
                TrackedOut(
                    rev, repo.relpath(dvcfile.path), repo.relpath(dvcfile.out_path(out)), out
                )
            )
    return outs


def cached_outs_at(repo: Repo, rev: str | None) -> list[TrackedOut]:
    """The outputs whose data DVC versions at a revision: `.dvc` files' and stages' cached ones.

    DVC-compat: `data status`, `diff` and `ls` see stage outputs next to `.dvc` files,
    those of a stage that never ran too (with no hash); outputs with `cache: false`,
    in a `.dvc` file or a `dvc.yaml`, are left to git.
    """
    outs = outs_at(repo, rev) + stage_outs_at(repo, rev, hashless=True)
    return [t for t in outs if t.out.cache]


def stage_outs_at(
    repo: Repo,
    rev: str | None,
    *,
    unrecorded: list[tuple[str, str]] | None = None,
    hashless: bool = False,
    defer_errors: bool = False,
) -> list[TrackedOut]:
    """Every stage output a revision's `dvc.lock` files record.

    `dvcfile` is the lock file's path. The output's `cache`, `push` and `remote` come
    from `dvc.yaml`, its hash from `dvc.lock`; a stage without a lock entry has none.
    Cached outputs with no hash at all are added to `unrecorded`, if given, as
    `(stage, path)`, and with `hashless` returned too, their `md5` None (DVC's
    index holds the declared outputs of a stage that never ran). With `defer_errors`,
    the stages that do not resolve are left out (see `Tree.pipelines`).
    """
    if not _has_pipeline_files(repo, rev):
        return []  # without loading the pipeline engine
    from mlvc.pipeline.lockfile import (
        LockFile,
        entry_hashes,
        lock_path_for,
        recorded_hash,
        recorded_output,
    )
    from mlvc.pipeline.revtree import Tree

    tree = Tree(repo, rev)
    if not tree.pipeline_files():
        return []
    found = []
    for file in tree.pipelines(defer_errors=defer_errors).files:
        lock_rel = lock_path_for(file.path)
        try:
            lock = LockFile.loads(tree.read(lock_rel).decode("utf-8"), lock_rel)
        except FileNotFoundError:
            lock = LockFile(Path(lock_rel))
        for name, stage in file.stages.items():
            recorded = entry_hashes(lock.get(name), "outs")
            for out in stage.outs:
                item = recorded.get(out.path)
                record = recorded_output(item, out.path)
                if record is None and out.cache and recorded_hash(item) is None:
                    if unrecorded is not None:
                        unrecorded.append((stage.addressing, stage.repo_path(out.path)))
                    if hashless:
                        record = Output(out.path)
                if record is None:
                    continue
                record.cache, record.push, record.remote = out.cache, out.push, out.remote
                found.append(
                    TrackedOut(
                        rev,
                        lock_rel,
                        stage.repo_path(out.path),
                        record,
                        stage=stage.addressing,
                        kind=out.kind,
                    )
                )
    return found


def objects_of(
    repo: Repo, outs: Iterable[TrackedOut], *, cache_only: bool = True
) -> tuple[set[str], set[str]]:
    """Object ids (`mlvc.objects`) the outputs need (`.dir` objects expanded through the
    local cache).

    Returns `(objects, unexpanded)`: `unexpanded` holds `.dir` ids whose manifest
    is not in the local cache, so their files could not be listed. An output with
    `within` needs its `.dir` object and only the files under that path (or the file
    that path goes through).
    """
    objects: set[str] = set()
    unexpanded: set[str] = set()
    for t in outs:
        out = t.out
        oid = out.oid
        if oid is None or (cache_only and not out.cache):
            continue
        objects.add(oid)
        if out.is_dir:
            if repo.objects.contains(oid):
                objects.update(h for rel, h in repo.objects.read_manifest(oid) if t.needs(rel))
            else:
                unexpanded.add(oid)
    return objects, unexpanded


class ScopeError(MlvcError):
    """Revision-scope flags a command cannot use as given (DVC exits 1)."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


@dataclass(frozen=True)
class RevScope:
    """Which revisions a command visits: DVC's `-a`, `-T`, `-A`, `--rev`, `-n` (plus the workspace).

    One value shared by push, fetch, pull, `status -c`, gc and `metrics show`, so the
    flags mean the same everywhere. DVC-compat: follows DVC's brancher: branch tips
    (with `num`, their `num - 1` first-parent ancestors too), tags, every commit, and
    each `--rev` with its ancestors; a commit reached several ways is visited once,
    named by every name that reached it.
    """

    workspace: bool = True
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    revs: tuple[str, ...] = ()
    num: int = 1
    # `gc --all-experiments`: the commits of every experiment ref (`refs/exps/...`).
    all_experiments: bool = False
    # `gc --date YYYY-MM-DD`: every commit made on that day (local time) or later.
    commit_date: str | None = None

    @property
    def has_commits(self) -> bool:
        """Whether any git revision is asked for (not just the workspace)."""
        return bool(
            self.all_branches
            or self.all_tags
            or self.all_commits
            or self.revs
            or self.all_experiments
            or self.commit_date
        )

    def named_commits(self, repo: Repo) -> dict[str, list[str]]:
        """`{commit id: [names]}` in DVC's order (`--rev`, branches, tags; or every commit)."""
        scm = repo.scm
        if scm is None or not self.has_commits:
            return {}
        from mlvc.ops.diff import resolve_rev

        found: list[tuple[str, str]] = []  # (name, commit id)

        def with_ancestors(names: Iterable[str]) -> None:
            for name in names:
                found.append((name, resolve_rev(repo, name)))
                for n in range(1, self.num):
                    try:
                        found.append((f"{name}~{n}", scm.resolve(f"{name}~{n}")))
                    except GitError:  # no such ancestor: the history ends there
                        break

        if self.num > 0:
            with_ancestors(self.revs)
        if self.all_commits:
            found += [(sha, sha) for sha, _time in _all_commits(repo)]
        else:
            if self.all_branches and self.num > 0:
                with_ancestors(
                    name.removeprefix("refs/heads/") for name, _ in scm.list_refs("refs/heads/")
                )
            if self.all_tags:
                for name, _ in scm.list_refs("refs/tags/"):
                    short = name.removeprefix("refs/tags/")
                    found.append((short, scm.resolve(short)))
            if self.commit_date:
                since = commit_date_stamp(self.commit_date)
                found += [(sha, sha) for sha, time in _all_commits(repo) if time >= since]
        if self.all_experiments:
            found += [(sha, sha) for sha in experiment_commits(repo)]
        grouped: dict[str, list[str]] = {}
        for name, sha in found:
            names = grouped.setdefault(sha, [])
            if name not in names:
                names.append(name)
        return grouped

    def revisions(self, repo: Repo) -> list[str | None]:
        """The revisions to visit: `None` for the workspace, then commit ids."""
        head: list[str | None] = [None] if self.workspace else []
        return head + list(self.named_commits(repo))


def _git_lines(repo: Repo, *args: str) -> list[str] | None:
    """Output lines of a git command, or None when it fails (e.g. no commit yet)."""
    code, out = Spawned(["git", *args], cwd=repo.root).output()
    return out.decode("utf-8", "surrogateescape").splitlines() if code == 0 else None


def _all_commits(repo: Repo) -> list[tuple[str, int]]:
    """`(commit id, committer time)` of every commit reachable from HEAD, branches, tags, remotes.

    DVC-compat: DVC's "all commits" leaves out experiment refs (`refs/exps/...`) and stashes.
    """
    refs = ["--branches", "--tags", "--remotes"]
    lines = _git_lines(repo, "log", "--format=%H %ct", "HEAD", *refs)
    if lines is None:  # no HEAD commit
        lines = _git_lines(repo, "log", "--format=%H %ct", *refs) or []
    found = []
    for line in lines:
        sha, _sep, stamp = line.partition(" ")
        found.append((sha, int(stamp)))
    return found


class BadDateError(ScopeError):
    """`--date` is not `YYYY-MM-DD`."""

    # DVC-compat: DVC fails with an unexpected error (exit 255).
    exit_code = 255
    hint = "write the date as `YYYY-MM-DD`, e.g. `2024-01-31`"


def commit_date_stamp(date: str) -> float:
    """Midnight (local time) starting `date`, as DVC's `--date` reads it."""
    from datetime import datetime

    try:
        return datetime.strptime(date, "%Y-%m-%d").timestamp()  # DVC-compat: local time
    except ValueError as exc:
        raise BadDateError(f"`--date {date}` does not match the format YYYY-MM-DD") from exc


# DVC-compat: experiment namespaces that hold no experiments (DVC's ITER_SKIP_NAMESPACES).
_EXP_SKIP = ("refs/exps/apply", "refs/exps/celery", "refs/exps/exec", "refs/exps/temp")
_EXP_STASHES = ("refs/exps/stash", "refs/exps/celery/stash")


def experiment_commits(repo: Repo) -> list[str]:
    """The commits of every experiment ref `refs/exps/<sha[:2]>/<sha[2:]>/<name>`.

    DVC-compat: an experiment's commits are its ref's first-parent chain down to (not
    including) its baseline commit, the one the ref's path names.
    """
    scm = repo.scm
    if scm is None:
        return []
    found: list[str] = []
    for ref, _target in scm.list_refs("refs/exps/"):
        parts = ref.split("/")
        if ref.startswith(_EXP_SKIP) or ref in _EXP_STASHES or not 4 <= len(parts) <= 5:
            continue
        baseline = parts[2] + parts[3]
        chain = _git_lines(repo, "rev-list", "--first-parent", ref)
        for sha in chain or []:
            if sha == baseline:
                break
            if sha not in found:
                found.append(sha)
    return found


# The default scope: the workspace alone.
WORKSPACE_ONLY = RevScope()
