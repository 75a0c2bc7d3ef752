"""A DVC/mlvc repository: its root, config, cache, state, lock and git."""

from __future__ import annotations

import contextlib
import os
import posixpath
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import mlvc
from mlvc import parsecache
from mlvc.config import Config
from mlvc.exceptions import MlvcError
from mlvc.lock import RepoLock
from mlvc.progress import Tally
from mlvc.spawn import Spawned

if TYPE_CHECKING:
    from mlvc.objects import ObjectStore
    from mlvc.remote.known import KnownObjects

DVC_DIR = ".dvc"
DEFAULT_LINK_TYPES = "reflink,copy"


# The state database's record of a directory found whole in the cache (`Repo.holds`).
WHOLE_DIR = "whole-dir"
# Object directories changed this recently may change again within their
# timestamp's tick: a directory found whole is then not remembered.
_RACY_NS = 2_000_000_000


def _objects_stamp(objects: Path) -> str | None:
    """The modification times of `objects` (`files/md5`) and of each directory in it,
    as text; None when one is too recent to be trusted."""
    try:
        times = {"": objects.stat().st_mtime_ns}
        with os.scandir(objects) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    times[entry.name] = entry.stat(follow_symlinks=False).st_mtime_ns
    except OSError:
        return None
    if max(times.values()) > time.time_ns() - _RACY_NS:
        return None
    return " ".join(f"{name}:{ns}" for name, ns in sorted(times.items()))


def outside_subrepos(paths: Iterable[str], is_repo_root: Callable[[str], bool]) -> list[str]:
    """The repository-relative `paths` (`/`-separated) that no sub-repository holds.

    DVC-compat: a directory below the root that holds `.dvc` is a repository of its
    own (`dvc init --subdir`); the parent's walks skip it whole, as if `.dvcignore`
    said `/name/` (DVC's `DvcIgnoreFilter._update_sub_repo`). Its `.dvc` files,
    `dvc.yaml` files and data are not the parent's. `is_repo_root(dir)` tells
    whether a directory holds `.dvc`; it is asked once per directory.
    """
    verdicts: dict[str, bool] = {}

    def held(directory: str) -> bool:
        if not directory:
            return False
        verdict = verdicts.get(directory)
        if verdict is None:
            verdict = is_repo_root(directory) or held(posixpath.dirname(directory))
            verdicts[directory] = verdict
        return verdict

    return [p for p in paths if not held(posixpath.dirname(p))]


def subrepo_roots(paths: Iterable[str]) -> set[str]:
    """The sub-repositories (see `outside_subrepos`) that a listing of a whole tree
    (a git commit's files, `.dvc/` included) shows: the directories above a `.dvc/`."""
    roots = set()
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts) - 1):
            if parts[i] == DVC_DIR:
                roots.add("/".join(parts[:i]))
    return roots


def shown_from(where: str, rel: str) -> str:
    """A repository-relative path named from `where` (the user's directory, also
    repository-relative; see `Repo.user_dir`), `/`-separated."""
    return rel if where == "." else posixpath.relpath(rel, where)


class NotARepoError(MlvcError):
    """The current directory is not inside a DVC repository."""

    exit_code = 253
    hint = "run `mlvc init` (or `dvc init`) in the project's root first"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` holding `.dvc/`."""
    here = (start or Path.cwd()).absolute()
    for candidate in (here, *here.parents):
        if (candidate / DVC_DIR).is_dir():
            return candidate
    raise NotARepoError(f"you are not inside of a DVC repository (checked up to `{here.anchor}`)")


def uninitialized_root(start: Path | None = None) -> Path:
    """The root of a repository without `.dvc/` (see `Repo.find`): the work tree of
    the git repository around `start`, or `start` itself outside git.

    DVC-compat: DVC's `Repo(uninitialized=True)` (`_get_repo_dirs`).
    """
    here = (start or Path.cwd()).absolute()
    try:
        git = mlvc.Git(here)
    except mlvc.exceptions.GitError:
        return here
    git_dir = Path(git.git_dir).absolute()
    # DVC-compat: from inside `.git/`, DVC sees a bare repository too.
    if git.workdir is None or here.is_relative_to(git_dir):
        raise NotARepoError(
            f"`{git_dir}` is a bare git repo", hint="run it in a clone with a work tree"
        )
    return Path(git.workdir)


@dataclass
class Repo:
    """An opened repository. Expensive parts (cache, state, git) open on first use.

    `initialized` False: a directory without `.dvc/`, opened only to read (`metrics`
    and `params` reports). It has no repository config, cache, state or lock, so
    nothing is written into it.
    """

    root: Path
    initialized: bool = True

    def __post_init__(self) -> None:
        # Parses of this repository's small YAML files are kept in its state database.
        parsecache.remember_in((lambda: self.state) if self.initialized else None)
        # Set inside `read_only_listing`: the `.dvc` and `dvc.yaml` files, listed once.
        self._listed: list[Path] | None = None
        # Hears every `hash_tree`/`hash_files` given no callback of its own: a command
        # sets it to show one running count over all the data it hashes.
        self.hashing_progress = Tally(None)

    @contextlib.contextmanager
    def read_only_listing(self) -> Iterator[None]:
        """Within, the workspace's `.dvc` and `dvc.yaml` files are listed once.

        For commands that write none of them (`data status`): each listing is a
        `git ls-files`, which costs a process start.
        """
        if self._listed is not None:
            yield  # inside another: its listing holds
            return
        dvcfiles, pipeline_files = self.project_files()
        self._listed = sorted(dvcfiles + pipeline_files)
        try:
            yield
        finally:
            self._listed = None

    @classmethod
    def find(cls, start: Path | None = None, *, uninitialized: bool = False) -> Repo:
        """The repository at or above `start` (default: the cwd).

        With `uninitialized`, a git work tree (or, outside git, `start`) without
        `.dvc/` opens too, as DVC's read-only reports do.
        """
        try:
            return cls(find_root(start))
        except NotARepoError:
            if not uninitialized:
                raise
        return cls(uninitialized_root(start), initialized=False)

    @property
    def dvc_dir(self) -> Path:
        return self.root / DVC_DIR

    @property
    def tmp_dir(self) -> Path:
        return self.dvc_dir / "tmp"

    @cached_property
    def config(self) -> Config:
        return Config.load(self.dvc_dir if self.initialized else None)

    @property
    def cache_dir(self) -> Path:
        configured = self.config.get("cache", "dir")
        return Path(configured) if configured else self.dvc_dir / "cache"

    @cached_property
    def cache(self) -> mlvc.Cache:
        self._require_initialized()
        shared = self.config.get("cache", "shared") == "group"
        return mlvc.Cache(self.cache_dir, shared_group=shared)

    @cached_property
    def objects(self) -> ObjectStore:
        """The cache by object id: DVC 3 objects and DVC 2 ones (`mlvc.objects`)."""
        from mlvc.objects import ObjectStore

        self._require_initialized()
        shared = self.config.get("cache", "shared") == "group"
        # Kept under `.dvc/tmp`: a symlink checkout points through it.
        view = self.tmp_dir / "mlvc" / "legacy-cache"
        return ObjectStore(self.cache, view=view, shared_group=shared)

    @cached_property
    def state(self) -> mlvc.State:
        self._require_initialized()
        return mlvc.State(self.tmp_dir / "mlvc" / "state.db")

    def _require_initialized(self) -> None:
        # Opening the state or the lock would create `.dvc/tmp` in a directory that
        # was never initialised.
        if not self.initialized:
            raise NotARepoError(f"`{self.root}` is not a DVC repository")

    @cached_property
    def known_objects(self) -> KnownObjects:
        """What each remote was last seen to hold (`data status --no-remote-refresh`)."""
        from mlvc.remote.known import KnownObjects

        return KnownObjects(self.tmp_dir)

    def holds(self, md5: str) -> bool:
        """Whether the cache holds the object whole: a file's, or a directory's `.dir`
        and every file's (DVC-compat: `status` says "not in cache" otherwise).

        A directory found whole is remembered in the state database with the
        modification times of the cache's object directories, taken once per
        process: any object added or removed since changes one of them, and a later
        command looks again. Within one command, a directory found whole stays so.
        `md5` may be any object id (`mlvc.objects`); DVC 2 directories are checked
        file by file each time.
        """
        from mlvc.objects import is_legacy

        if is_legacy(md5):
            objects = self.objects
            if not objects.contains(md5):
                return False
            try:
                return not md5.endswith(".dir") or objects.tree_missing(md5) == 0
            except (OSError, ValueError, MlvcError):
                return False
        cache = self.cache
        if not cache.contains(md5):
            return False
        if not md5.endswith(".dir") or md5 in self._whole_dirs:
            return True
        stamp = self._objects_stamp
        key = f"{md5}\n{stamp}".encode()
        if stamp is not None and self.state.parsed(WHOLE_DIR, key) is not None:
            self._whole_dirs.add(md5)
            return True
        try:
            whole = cache.tree_missing(md5) == 0
        except (OSError, ValueError, MlvcError):
            return False
        if whole:
            self._whole_dirs.add(md5)
            if stamp is not None:
                self.state.record_parsed(WHOLE_DIR, key, "")
        return whole

    @cached_property
    def _whole_dirs(self) -> set[str]:
        """`.dir` ids this process found whole in the cache (see `holds`)."""
        return set()

    @cached_property
    def _objects_stamp(self) -> str | None:
        """The cache's object directories' times when first asked (see `holds`)."""
        return _objects_stamp(Path(self.cache.object_path("0" * 32)).parent.parent)

    @property
    def link_types(self) -> str:
        return self.config.get("cache", "type") or DEFAULT_LINK_TYPES

    @cached_property
    def scm(self) -> mlvc.Git | None:
        if self.config.get_bool("core", "no_scm"):
            return None
        try:
            return mlvc.Git(self.root)
        except mlvc.exceptions.GitError:
            return None

    def lock(self, *, wait: bool = False) -> RepoLock:
        self._require_initialized()
        hardlink = self.config.get_bool("core", "hardlink_lock")
        return RepoLock(self.tmp_dir / "lock", wait=wait, hardlink=hardlink)

    def relpath(self, path: Path) -> str:
        """`path` relative to the repository root, `/`-separated."""
        return Path(os.path.relpath(path.absolute(), self.root)).as_posix()

    def user_dir(self, cwd: Path) -> str:
        """The user's directory relative to the root (`.` when outside the repository):
        DVC names stages and files to the user from there."""
        return self.relpath(cwd) if self.is_inside(cwd) else "."

    def shown(self, rel: str, cwd: Path) -> str:
        """A repository-relative path as DVC names it to a user in `cwd`."""
        return shown_from(self.user_dir(cwd), rel)

    def is_inside(self, path: Path) -> bool:
        try:
            path.absolute().relative_to(self.root)
        except ValueError:
            return False
        return True

    def is_subrepo_root(self, rel: str) -> bool:
        """Whether the directory `rel` (below the root) is a repository of its own."""
        return os.path.lexists(self.root / rel / DVC_DIR)

    def outside_subrepos(self, paths: Iterable[str]) -> list[str]:
        """The workspace `paths` that belong to this repository, not to a sub-repository."""
        return outside_subrepos(paths, self.is_subrepo_root)

    def dvcfiles(self) -> list[Path]:
        """Every `.dvc` file of the workspace (ignored data directories are skipped)."""
        return self._workspace_files(["*.dvc", ":(glob)**/*.dvc"], lambda p: p.endswith(".dvc"))

    def project_files(self) -> tuple[list[Path], list[Path]]:
        """`(dvcfiles(), pipeline_files())` from one listing of the workspace."""
        both = self._workspace_files(
            ["*.dvc", ":(glob)**/*.dvc", "dvc.yaml", ":(glob)**/dvc.yaml"],
            lambda p: p.endswith(".dvc") or p == "dvc.yaml" or p.endswith("/dvc.yaml"),
        )
        return [p for p in both if p.name.endswith(".dvc")], [
            p for p in both if p.name == "dvc.yaml"
        ]

    def pipeline_files(self) -> list[Path]:
        """Every `dvc.yaml` of the workspace, sorted by path."""
        return self._workspace_files(
            ["dvc.yaml", ":(glob)**/dvc.yaml"],
            lambda p: p == "dvc.yaml" or p.endswith("/dvc.yaml"),
        )

    def _workspace_files(self, pathspecs: list[str], match: Callable[[str], bool]) -> list[Path]:
        if self._listed is not None:
            return [p for p in self._listed if match(self.relpath(p))]
        if self.scm is not None:
            # git already knows what is ignored, so data directories are never walked.
            listing = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"]
            code, out = Spawned(["git", *listing, *pathspecs], cwd=self.root).output()
            if code == 0:
                names = {n for n in out.decode("utf-8", "surrogateescape").split("\0") if n}
                return sorted(
                    self.root / n
                    for n in self.outside_subrepos(names)
                    if (self.root / n).is_file() and not n.startswith(DVC_DIR + "/")
                )
        found = []
        for f in mlvc.walk(self.root, ignore_root=self.root):
            if match(f.relpath) and not f.relpath.startswith(DVC_DIR + "/"):
                found.append(f.relpath)
        return sorted(self.root / n for n in self.outside_subrepos(found))

    # Hashing with this repository's state cache and `.dvcignore` rules.
    def hash_tree(
        self,
        path: Path,
        *,
        jobs: int = 0,
        progress: Callable[[int, int], object] | None = None,
        algorithm: str = "md5",
    ) -> mlvc.TreeHash:
        """`algorithm` `md5-dos2unix` hashes as DVC 2 did (`mlvc.objects.LEGACY_ALGORITHM`)."""
        return mlvc.hash_tree(
            path,
            algorithm=algorithm,
            jobs=jobs,
            ignore_root=self.root,
            state=self.state,
            progress=progress or self.hashing_progress.part(),
        )

    def hash_files(
        self, paths: list[Path], *, jobs: int = 0, algorithm: str = "md5"
    ) -> list[mlvc.FileHash]:
        return mlvc.hash_files(
            paths,
            algorithm=algorithm,
            jobs=jobs,
            state=self.state,
            progress=self.hashing_progress.part(),
        )
