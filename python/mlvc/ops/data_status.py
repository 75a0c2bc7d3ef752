"""`data status`: tracked data between the last commit, the `.dvc` files and the workspace.

Three indexes are compared (see `mlvc.ops.diff`): HEAD's `.dvc` files against
the workspace's `.dvc` files ("committed" changes), and the workspace's `.dvc`
files against the data on disk ("uncommitted" changes). Without `--granular`
only whole outputs are compared, so a tracked directory costs one state-cached
tree hash and no per-file Python work.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvc.ops.diff import (
    RENAME,
    UNCHANGED,
    UNKNOWN,
    Change,
    Entry,
    Index,
    compare,
    in_targets,
    rev_index,
    target_keys,
    workspace_index,
)
from mlvc.repo import Repo
from mlvc.revs import TrackedOut, cached_outs_at
from mlvc.spawn import Spawned

# A change list: paths, or `{"old", "new"}` pairs for renames.
DiffResult = dict[str, list[Any]]

# DVC-compat: key order of a diff result (dvc's `DiffResult`).
_RESULT_ORDER = ("modified", "added", "deleted", "renamed", "unknown")


@dataclass
class DataStatus:
    """What `data status` found; lists are sorted (DVC's own order is unstable)."""

    not_in_cache: list[str] = field(default_factory=list)
    not_in_remote: list[str] = field(default_factory=list)
    committed: DiffResult = field(default_factory=dict)
    uncommitted: DiffResult = field(default_factory=dict)
    untracked: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    git_dirty: bool = False
    git_empty: bool = False

    def as_json(self, *, unchanged: bool = False, untracked: bool = False) -> dict[str, Any]:
        """DVC's `--json` shape: empty sections are left out."""
        out: dict[str, Any] = {
            "not_in_cache": self.not_in_cache,
            "not_in_remote": self.not_in_remote,
            "committed": self.committed,
            "uncommitted": self.uncommitted,
            "untracked": self.untracked if untracked else [],
            "unchanged": self.unchanged if unchanged else [],
        }
        return {k: v for k, v in out.items() if v}


def _collect(changes: Iterable[Change], targets: list[str]) -> tuple[DiffResult, set[str]]:
    """Turns changes into DVC's result lists, and returns the unchanged paths apart."""
    found: dict[str, list[Any]] = {}
    unchanged: set[str] = set()
    for c in changes:
        key = (c.new if c.typ == RENAME else (c.old or c.new)).path  # type: ignore[union-attr]
        if not in_targets(key, targets):
            continue
        old_h = c.old.hash if c.old else None
        new_h = c.new.hash if c.new else None
        if c.typ == UNCHANGED and not old_h and not new_h:
            # DVC-compat: entries without any hash are not reported at all.
            continue
        if c.typ == UNKNOWN and c.new is None:
            continue
        if c.typ == RENAME and c.old and c.new:
            found.setdefault(RENAME, []).append({"old": c.old.display, "new": c.new.display})
        elif c.typ == UNCHANGED:
            unchanged.add(c.path)
        else:
            found.setdefault(c.typ, []).append(c.path)
    result: DiffResult = {}
    for kind in _RESULT_ORDER:
        if kind in found:
            items = found[kind]
            items.sort(key=lambda i: (i["old"], i["new"]) if isinstance(i, dict) else i)
            result[kind] = items
    return result, unchanged


def _not_in_cache(repo: Repo, recorded: Index, targets: list[str]) -> list[str]:
    """Recorded entries whose object is missing from the local cache."""
    missing = []
    for entry in recorded.entries.values():
        if entry.hash and in_targets(entry.path, targets) and not repo.objects.contains(entry.hash):
            missing.append(entry.display)
    return sorted(missing)


def _not_in_remote(
    repo: Repo,
    outs: Iterable[TrackedOut],
    remote: str | None,
    granular: bool,
    targets: list[str],
    *,
    refresh: bool = True,
) -> list[str]:
    """Pushable entries whose object the remote does not hold.

    Without `refresh`, the remote is not asked: what it was last seen to hold
    answers (`Repo.known_objects`), and anything never seen there counts as absent.
    """
    entries: dict[str, str] = {}  # display path -> object id
    for t in outs:
        out = t.out
        if not (out.md5 and out.cache and out.push):
            continue
        for entry in _expanded(repo, t, granular):
            if entry.hash and in_targets(entry.path, targets):
                entries[entry.display] = entry.hash
    name = repo.config.chosen_remote(remote)
    if name is None:
        # DVC-compat: with no remote configured, nothing counts as pushed (no error).
        return sorted(entries)
    from mlvc.config import ConfigError
    from mlvc.remote import open_remote, remote_url
    from mlvc.remote.base import RemoteError

    try:
        remote_url(repo.config, name)  # an unknown name fails either way
    except RemoteError as exc:
        # DVC-compat: a config error here (exit 251), where `push` and `status -c` exit 1.
        raise ConfigError(str(exc), hint=exc.hint) from exc
    backend = open_remote(repo.config, name)
    ids = set(entries.values())
    if refresh:
        present = backend.exists_many(ids)
        repo.known_objects.learn(name, present, ids - present)
    else:
        present = repo.known_objects.present(name) & ids
    return sorted(path for path, oid in entries.items() if oid not in present)


def _expanded(repo: Repo, t: TrackedOut, granular: bool) -> list[Entry]:
    """An output's entry, plus its files when `granular` and its `.dir` is cached."""
    index = rev_index(repo, [t], granular=granular)
    return list(index.entries.values())


def _git(repo: Repo, *args: str) -> bytes:
    return Spawned(["git", *args], cwd=repo.root).checked_output()


def _untracked(repo: Repo, targets: list[str], cwd: Path) -> list[str]:
    """Files git does not track and does not ignore, relative to `cwd` like DVC prints them."""
    # `--full-name` keeps paths relative to the git root whatever the directory.
    out = _git(repo, "ls-files", "--others", "--exclude-standard", "--full-name", "-z")
    names = [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
    top = _git(repo, "rev-parse", "--show-toplevel").decode().strip()
    found = []
    for name in names:
        path = Path(top) / name
        if not repo.is_inside(path):
            continue
        rel = repo.relpath(path)
        if not in_targets(rel, targets):
            continue
        found.append(Path(os.path.relpath(path, cwd)).as_posix())
    return sorted(found)


def _start_git_dirty(repo: Repo) -> Spawned:
    """Starts asking git whether tracked files have staged or unstaged changes.

    Started before the workspace is hashed, so git's start-up overlaps it.
    """
    return Spawned(["git", "status", "--porcelain", "-z", "--untracked-files=no"], cwd=repo.root)


def _git_dirty(proc: Spawned) -> bool:
    """The answer of `_start_git_dirty`."""
    return bool(proc.checked_output().strip())


def data_status(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    granular: bool = False,
    untracked_files: bool = False,
    not_in_remote: bool = False,
    remote: str | None = None,
    remote_refresh: bool = True,
    cwd: Path | None = None,
    jobs: int = 0,
) -> DataStatus:
    """Compares HEAD, the `.dvc` files and the workspace the way `dvc data status` does.

    `remote_refresh=False` answers `not_in_remote` without asking the remote.
    """
    with repo.read_only_listing():
        return _data_status(
            repo,
            targets,
            granular=granular,
            untracked_files=untracked_files,
            not_in_remote=not_in_remote,
            remote=remote,
            remote_refresh=remote_refresh,
            cwd=cwd,
            jobs=jobs,
        )


def _data_status(
    repo: Repo,
    targets: Iterable[str],
    *,
    granular: bool,
    untracked_files: bool,
    not_in_remote: bool,
    remote: str | None,
    remote_refresh: bool,
    cwd: Path | None,
    jobs: int,
) -> DataStatus:
    cwd = (cwd or Path.cwd()).absolute()
    keys = target_keys(repo, targets, cwd)
    if "" in keys:
        keys = []  # the repository root selects everything
    outs = cached_outs_at(repo, None)
    scm = repo.scm
    dirty_check = _start_git_dirty(repo) if scm is not None else None
    try:
        recorded = rev_index(repo, outs, granular=granular).only(keys)
        actual = workspace_index(repo, outs, granular=granular, jobs=jobs).only(keys)
        uncommitted, unchanged = _collect(compare(recorded, actual, hash_only=True), keys)
        status = DataStatus(uncommitted=uncommitted)
        status.not_in_cache = _not_in_cache(repo, recorded, keys)
        if not_in_remote:
            status.not_in_remote = _not_in_remote(
                repo, outs, remote, granular, keys, refresh=remote_refresh
            )

        if scm is not None and dirty_check is not None:
            head = scm.head_commit()
            status.git_empty = head is None
            # DVC-compat: without a commit, HEAD's index is empty and everything is "added".
            at_head = Index()
            if head:
                at_head = rev_index(repo, cached_outs_at(repo, head), granular=granular).only(keys)
            committed, same = _collect(compare(at_head, recorded, hash_only=True), keys)
            status.committed = committed
            unchanged &= same
            status.untracked = _untracked(repo, keys, cwd) if untracked_files else []
            status.git_dirty = _git_dirty(dirty_check) or bool(status.untracked)
    finally:
        if dirty_check is not None:
            dirty_check.kill()  # when the command failed before reading git's answer
    status.unchanged = sorted(unchanged)
    return status


# DVC-compat: section titles, hints and order of `dvc data status`.
_LABELS = {
    "not_in_cache": "Not in cache",
    "not_in_remote": "Not in remote",
    "committed": "DVC committed changes",
    "uncommitted": "DVC uncommitted changes",
    "untracked": "Untracked files",
    "unchanged": "DVC unchanged files",
}
_HINTS: dict[str, tuple[str, ...]] = {
    "not_in_cache": ('use "dvc fetch <file>..." to download files',),
    "not_in_remote": ('use "dvc push <file>..." to upload files',),
    "committed": ("git commit the corresponding dvc files to update the repo",),
    "uncommitted": (
        'use "dvc commit <file>..." to track changes',
        'use "dvc checkout <file>..." to discard changes',
    ),
    "untracked": ('use "git add <file> ..." or "dvc add <file>..." to commit to git or to dvc',),
}
_INDENT = " " * 8


def as_text(status: DataStatus, *, unchanged: bool = False, untracked: bool = False) -> str:
    """The report as `dvc data status` prints it."""
    sections = status.as_json(unchanged=unchanged, untracked=untracked)
    lines: list[str] = []
    if not sections:
        lines.append("No changes in an empty git repo." if status.git_empty else "No changes.")
    for i, (name, body) in enumerate(sections.items()):
        if i:
            lines.append("")
        lines.append(f"{_LABELS[name]}:")
        lines += [f"  ({hint})" for hint in _HINTS.get(name, ())]
        if isinstance(body, dict):
            for state, items in body.items():
                for item in items:
                    shown = f"{item['old']} -> {item['new']}" if isinstance(item, dict) else item
                    lines.append(f"{_INDENT}{state}: {shown}")
        else:
            lines += [_INDENT + item for item in body]
    if status.git_dirty:
        other = "other " if sections else ""
        lines.append(f'(there are {other}changes not tracked by dvc, use "git status" to see)')
    return "".join(line + "\n" for line in lines)
