"""What changed in a stage since `dvc.lock` recorded it (DVC's rules, in DVC's order)."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlvc
from mlvc.exceptions import ParamsFileError
from mlvc.objects import LEGACY_ALGORITHM, LEGACY_PREFIX
from mlvc.pipeline.lockfile import (
    HashInfo,
    LockFile,
    entry_hashes,
    lock_path_for,
    plain,
    recorded_hash,
)
from mlvc.pipeline.model import Stage
from mlvc.pipeline.params import read_params_file, select_params

if TYPE_CHECKING:
    from mlvc.repo import Repo

# DVC-compat: the words `dvc status` uses.
MODIFIED = "modified"
DELETED = "deleted"
NEW = "new"
NOT_IN_CACHE = "not in cache"
CHANGED_COMMAND = "changed command"
ALWAYS_CHANGED = "always changed"

StatusItem = str | dict[str, dict[str, Any]]


class Workspace:
    """Hashes of workspace paths and params values, computed once and kept until invalidated.

    Files are hashed in one batch through the Rust core and its state cache, so
    checking many stages costs one call rather than one per path.
    """

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._hashes: dict[str, HashInfo | None] = {}
        # Known paths below each directory, so forgetting an output costs the
        # paths it touches rather than a scan of everything known.
        self._below: dict[str, set[str]] = {}
        self._params: dict[str, Any] = {}
        self._legacy: dict[str, HashInfo | None] = {}
        self._locks: dict[str, LockFile] = {}

    def lock(self, dvcfile: str) -> LockFile:
        path = lock_path_for(dvcfile)
        if path not in self._locks:
            self._locks[path] = LockFile.load(self.repo.root / path, path)
        return self._locks[path]

    def prefetch(self, paths: Iterable[str]) -> None:
        """Hashes the (repository-relative) paths not known yet, files in one batch."""
        files: list[str] = []
        for p in paths:
            if p in self._hashes or p in files:
                continue
            full = self.repo.root / p
            try:
                st = full.stat()
            except (FileNotFoundError, NotADirectoryError):
                self._remember(p, None)
                continue
            if stat.S_ISDIR(st.st_mode):
                tree = self.repo.hash_tree(full)
                self._remember(p, (tree.hash, tree.size, tree.nfiles, False))
            else:
                files.append(p)
        if files:
            for p, fh in zip(
                files, self.repo.hash_files([self.repo.root / p for p in files]), strict=True
            ):
                self._remember(p, (fh.hash, fh.size, None, fh.isexec))

    def legacy_hash(self, path: str) -> HashInfo | None:
        """Like `hash`, with DVC 2's md5-dos2unix (what a 2.x `dvc.lock` records)."""
        if path not in self._legacy:
            full = self.repo.root / path
            info: HashInfo | None = None
            if full.is_dir():
                tree = mlvc.hash_tree(
                    full,
                    algorithm=LEGACY_ALGORITHM,
                    ignore_root=self.repo.root,
                    state=self.repo.state,
                )
                info = (tree.hash, tree.size, tree.nfiles, False)
            elif full.exists():
                (fh,) = mlvc.hash_files([full], algorithm=LEGACY_ALGORITHM, state=self.repo.state)
                info = (fh.hash, fh.size, None, fh.isexec)
            self._legacy[path] = info
        return self._legacy[path]

    def matches(self, path: str, recorded: str | None) -> bool:
        """Whether the path's content is what a lock entry records (DVC 3 or 2.x hash)."""
        if recorded is not None and recorded.startswith(LEGACY_PREFIX):
            info = self.legacy_hash(path)
            return info is not None and info[0] == recorded[len(LEGACY_PREFIX) :]
        info = self.hash(path)
        return info is not None and info[0] == recorded

    def hash(self, path: str) -> HashInfo | None:
        """`(md5, size, nfiles, isexec)` of a repository-relative path, None if missing."""
        if path not in self._hashes:
            self.prefetch([path])
        return self._hashes[path]

    def put(self, path: str, info: HashInfo | None) -> None:
        self._remember(path, info)

    def _remember(self, path: str, info: HashInfo | None) -> None:
        self._hashes[path] = info
        parent = path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            self._below.setdefault(parent, set()).add(path)

    def invalidate(self, path: str) -> None:
        """Forgets `path`, what is inside it and the directories holding it."""
        self._hashes.pop(path, None)
        for known in [p for p in self._legacy if p == path or p.startswith(path + "/")]:
            self._legacy.pop(known, None)
        parent = path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            self._legacy.pop(parent, None)
        for known in self._below.pop(path, ()):
            self._hashes.pop(known, None)
        parent = path
        while "/" in parent:
            parent = parent.rsplit("/", 1)[0]
            self._hashes.pop(parent, None)
        self._params.pop(path, None)

    def params(self, path: str) -> Any:
        """Parsed params file (None when it does not exist)."""
        if path not in self._params:
            full = self.repo.root / path
            if not full.is_file():
                self._params[path] = None
            else:
                self._params[path] = read_params_file(full, path)
        return self._params[path]


def param_values(ws: Workspace, stage: Stage) -> dict[str, dict[str, Any]]:
    """Current values of the stage's params, by params file as written (for the lock).

    Raises when a file or a key is missing, as DVC does before running.
    """
    result: dict[str, dict[str, Any]] = {}
    for ref in stage.params:
        repo_path = stage.repo_path(ref.path)
        data = ws.params(repo_path)
        if data is None:
            raise ParamsFileError(
                f"stage `{stage.addressing}`: params file `{repo_path}` does not exist",
                "create it, or remove it from the stage's `params`",
            )
        if ref.whole_file:
            values = dict(data) if isinstance(data, dict) else {}
        else:
            values = select_params(data, ref.keys)
            missing = [k for k in dict.fromkeys(ref.keys) if k not in values]
            if missing:
                raise ParamsFileError(
                    f"stage `{stage.addressing}`: params {', '.join(map(repr, missing))} "
                    f"are missing from `{repo_path}`",
                    "add them to the file, or remove them from the stage's `params`",
                )
        _refuse_unstorable(values, stage, repo_path)
        result[ref.path] = values
    return result


def _refuse_unstorable(values: dict[str, Any], stage: Stage, path: str) -> None:
    """Refuses, before the stage runs, param values `dvc.lock` cannot hold.

    DVC-compat: DVC fails with an internal error once the command has run, when it
    writes the lock (a set from a Python params file, a TOML date, a mapping
    mixing text and number keys).
    """
    stack: list[tuple[str, Any]] = list(values.items())
    while stack:
        key, value = stack.pop()
        if value is None or isinstance(value, bool | int | float | str):
            continue
        problem = None
        if isinstance(value, list | tuple):  # DVC writes a tuple as a list
            stack.extend((f"{key}.{i}", item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            if len({type(k) for k in value}) > 1:
                problem = "a mapping whose keys mix text and numbers"
            stack.extend((f"{key}.{k}", item) for k, item in value.items())
        else:
            problem = f"a {type(value).__name__}"
        if problem:
            raise ParamsFileError(
                f"stage `{stage.addressing}`: param `{key}` of `{path}` is {problem},"
                " which `dvc.lock` cannot hold",
                "give it a number, text, a list or a mapping with text keys",
            )


@dataclass
class StageStatus:
    """How a stage differs from its lock entry; empty `items` means unchanged."""

    stage: Stage
    items: list[StatusItem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.items)


def _params_status(
    ws: Workspace, stage: Stage, lock_entry: dict[str, Any] | None
) -> list[tuple[str, str | dict[str, str]]]:
    recorded = (lock_entry or {}).get("params") or {}
    found: list[tuple[str, str | dict[str, str]]] = []
    for ref in stage.params:
        repo_path = stage.repo_path(ref.path)
        data = ws.params(repo_path)
        if data is None:
            found.append((repo_path, DELETED))
            continue
        info = recorded.get(ref.path) if isinstance(recorded, dict) else None
        if info is None or not isinstance(info, dict):
            found.append((repo_path, NEW))
            continue
        if ref.whole_file:
            actual = dict(data) if isinstance(data, dict) else {}
            keys = list(dict.fromkeys([*actual, *info]))
        else:
            actual = select_params(data, ref.keys)
            keys = list(dict.fromkeys(ref.keys))
        states: dict[str, str] = {}
        for key in keys:
            if key not in actual:
                states[key] = DELETED
            elif key not in info:
                states[key] = NEW
            elif plain(actual[key]) != info[key]:
                states[key] = MODIFIED
        if states:
            found.append((repo_path, states))
    return found


def stage_status(
    ws: Workspace,
    stage: Stage,
    *,
    cwd: Path | None = None,
    check_cache: bool = True,
    first_only: bool = False,
    within: str | None = None,
) -> StageStatus:
    """DVC's `status` of one stage: changed deps, changed outs, always changed, command.

    With `first_only`, stops at the first difference (enough to decide to rerun).
    `within`: a repository path; only the output at it (or holding it) is looked at,
    as DVC does for a target naming an output.
    """
    repo = ws.repo
    cwd = (cwd or repo.root).absolute()
    entry = ws.lock(stage.dvcfile).get(stage.name)
    result = StageStatus(stage)
    cmd_changed = entry is not None and entry.get("cmd") != stage.cmd
    if first_only and cmd_changed:
        result.items.append(CHANGED_COMMAND)
        return result
    # DVC-compat: a stage with a command and nothing else is always run ("callback").
    always = stage.always_changed or (not stage.deps and not stage.outs and not stage.params)
    if not stage.frozen:
        if first_only and always:
            result.items.append(ALWAYS_CHANGED)
            return result
        recorded = entry_hashes(entry, "deps")
        ws.prefetch(stage.repo_path(d) for d in stage.deps)
        deps: dict[str, Any] = {}
        for dep in stage.deps:
            current = ws.hash(stage.repo_path(dep))
            state = None
            if current is None:
                state = DELETED
            elif not ws.matches(stage.repo_path(dep), recorded_hash(recorded.get(dep))):
                state = MODIFIED
            if state is not None:
                deps[repo.shown(stage.repo_path(dep), cwd)] = state
                if first_only:
                    break
        if not (first_only and deps):
            for path, pstate in _params_status(ws, stage, entry):
                deps[repo.shown(path, cwd)] = pstate
        if deps:
            result.items.append({"changed deps": deps})
            if first_only:
                return result
    outs = _outs_status(ws, stage, entry, cwd, check_cache, first_only, within)
    if outs:
        result.items.append({"changed outs": outs})
        if first_only:
            return result
    # DVC-compat: reported for a frozen stage too, though it does not make it run
    # (so it is left out when deciding that).
    if always and not (first_only and stage.frozen):
        result.items.append(ALWAYS_CHANGED)
    if cmd_changed:
        result.items.append(CHANGED_COMMAND)
    return result


def _outs_status(
    ws: Workspace,
    stage: Stage,
    entry: dict[str, Any] | None,
    cwd: Path,
    check_cache: bool,
    first_only: bool,
    within: str | None = None,
) -> dict[str, str]:
    repo = ws.repo
    recorded = entry_hashes(entry, "outs")
    ws.prefetch(stage.repo_path(o.path) for o in stage.outs)
    outs: dict[str, str] = {}
    for out in stage.outs:
        repo_path = stage.repo_path(out.path)
        if within is not None and not (within == repo_path or within.startswith(repo_path + "/")):
            continue
        md5 = recorded_hash(recorded.get(out.path))
        state = None
        # DVC-compat: "not in cache" is checked first, even for a deleted output.
        if md5 is not None and out.cache and check_cache and not repo.holds(md5):
            state = NOT_IN_CACHE
        else:
            current = ws.hash(repo_path)
            if current is None:
                state = DELETED
            elif not ws.matches(repo_path, md5):
                state = MODIFIED
        if state is not None:
            outs[repo.shown(repo_path, cwd)] = state
            if first_only:
                break
    return outs


def outs_cached(repo: Repo, outs: list[tuple[str, str]]) -> bool:
    """Whether every `(path, id)` can be checked out from the cache (directories: each
    file); DVC 2 ids (`mlvc.objects`) are looked for in the old layout."""
    return all(repo.holds(oid) for _, oid in outs)
