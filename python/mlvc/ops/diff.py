"""`diff`: what changed in tracked data between two revisions, or a revision and the workspace.

The comparison works on *indexes*: flat maps from a repo-relative path to the
hash recorded (or computed) for it. A revision's index comes from its `.dvc`
files and, for directories, from their `.dir` manifests in the local cache; the
workspace's comes from hashing the outputs through the state cache. The same
machinery serves `data status` (see `mlvc.ops.data_status`).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlvc.exceptions import GitError, MlvcError
from mlvc.objects import LEGACY_ALGORITHM, LEGACY_PREFIX, bare
from mlvc.repo import Repo
from mlvc.revs import TrackedOut, cached_outs_at, dvcfiles_at

if TYPE_CHECKING:
    from mlvc.pipeline.model import Stage

# The pipeline modules are imported only when targets are read: `data status`
# without targets (its common use) never needs them.

# DVC-compat: the change kinds of dvc_data's index diff.
ADD = "added"
DELETE = "deleted"
MODIFY = "modified"
RENAME = "renamed"
UNCHANGED = "unchanged"
UNKNOWN = "unknown"


class UnknownRevisionError(MlvcError):
    """A git revision named on the command line does not exist."""

    hint = "check the name with `git log --oneline` or `git branch -a`"

    def __init__(self, rev: str) -> None:
        super().__init__(f"unknown Git revision `{rev}`")
        self.rev = rev


class BadRevisionError(UnknownRevisionError):
    """An unknown revision given to `metrics diff`, `params diff` or `gc --rev`."""

    exit_code = 255  # DVC-compat: these commands fail with 255 (`dvc diff` with 1)


class NoGitError(MlvcError):
    """A command that reads Git revisions, in a repository initialised with `--no-scm`
    (or, `no_scm` False, in a directory outside git)."""

    def __init__(
        self, what: str, *, exit_code: int = 1, hint: str | None = None, no_scm: bool = True
    ) -> None:
        why = " (this one was initialised with `--no-scm`)" if no_scm else ""
        super().__init__(f"{what} needs a Git repository{why}")
        self.exit_code = exit_code
        self.hint = hint


class TargetNotTrackedError(MlvcError):
    """A target given on the command line names no data at any compared revision."""

    hint = (
        "name an output, a path inside one, its `.dvc` file, a `dvc.yaml` or a stage"
        " (see `mlvc ls . -R --dvc-only`)"
    )

    def __init__(self, target: str, message: str | None = None, hint: str | None = None) -> None:
        super().__init__(
            message or f"`{target}` names no tracked data nor stage at the compared revisions"
        )
        self.target = target
        if hint is not None:
            self.hint = hint


@dataclass(frozen=True)
class Entry:
    """One path of an index: a tracked output, or a file inside a tracked directory."""

    path: str  # repo-relative, `/`-separated, no trailing slash
    hash: str | None  # an object id (`mlvc.objects`): DVC 2 data compares unequal to DVC 3's
    isdir: bool = False

    @property
    def shown_hash(self) -> str | None:
        """The hash as DVC prints it (without a legacy mark)."""
        return None if self.hash is None else bare(self.hash)

    @property
    def display(self) -> str:
        """The path as DVC prints it: directories end with `/`."""
        # DVC-compat: directory entries are shown with a trailing separator.
        return self.path + "/" if self.isdir else self.path


@dataclass
class Index:
    """Every tracked path of one side of a comparison."""

    entries: dict[str, Entry] = field(default_factory=dict)
    # Tracked directories whose files could not be listed (their `.dir` is not cached).
    unknown_dirs: set[str] = field(default_factory=set)
    # Tracked directories whose files were listed.
    listed_dirs: set[str] = field(default_factory=set)
    # The workspace subdirectories (relative paths) of tracked directories whose
    # `.dir` is not cached, which DVC reports as unknown too.
    subdirs: dict[str, list[str]] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.entries[entry.path] = entry

    def only(self, targets: list[str]) -> Index:
        """The entries inside the targets, plus the tracked directories that hold them.

        Filtering before comparing (as DVC's index views do) keeps an entry outside
        the targets from pairing with one inside as a rename.
        """
        if not targets:
            return self
        kept = {
            p: e
            for p, e in self.entries.items()
            if in_targets(p, targets) or any(t.startswith(p + "/") for t in targets)
        }
        subdirs = {
            out: [d for d in dirs if in_targets(f"{out}/{d}/", targets)]
            for out, dirs in self.subdirs.items()
        }
        return Index(kept, set(self.unknown_dirs), set(self.listed_dirs), subdirs)


@dataclass(frozen=True)
class Change:
    """One difference between two indexes."""

    typ: str
    old: Entry | None
    new: Entry | None

    @property
    def path(self) -> str:
        entry = self.new if self.typ == ADD else (self.old or self.new)
        assert entry is not None
        return entry.display


def resolve_rev(repo: Repo, rev: str) -> str:
    """The commit id of `rev`, or UnknownRevisionError naming it."""
    scm = repo.scm
    if scm is None:
        raise UnknownRevisionError(rev)
    try:
        return scm.resolve(rev)
    except GitError as exc:
        raise UnknownRevisionError(rev) from exc


def _parent_dirs(path: str) -> Iterator[str]:
    parts = path.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def rev_index(repo: Repo, outs: Iterable[TrackedOut], *, granular: bool = True) -> Index:
    """The index recorded by `.dvc` files; directories are expanded from cached `.dir` files."""
    index = Index()
    for t in outs:
        out = t.out
        oid = out.oid
        index.add(Entry(t.path, oid, out.is_dir))
        if not (granular and out.is_dir and oid):
            continue
        if not repo.objects.contains(oid):
            index.unknown_dirs.add(t.path)
            continue
        index.listed_dirs.add(t.path)
        for rel, h in repo.objects.read_manifest(oid):
            index.add(Entry(f"{t.path}/{rel}", h))
    return index


def workspace_index(
    repo: Repo, outs: Iterable[TrackedOut], *, granular: bool = True, jobs: int = 0
) -> Index:
    """The index of what is in the workspace now, hashed through the state cache.

    DVC-compat: an output recorded by DVC 2 is hashed as DVC 2 did (md5-dos2unix), so
    that data that did not change compares equal to its record.
    """
    index = Index()
    files: dict[bool, list[tuple[str, Path]]] = {False: [], True: []}
    for t in outs:
        path = repo.root / t.path
        legacy = t.out.is_legacy
        prefix = LEGACY_PREFIX if legacy else ""
        if path.is_dir():
            algorithm = LEGACY_ALGORITHM if legacy else "md5"
            tree = repo.hash_tree(path, jobs=jobs, algorithm=algorithm)
            index.add(Entry(t.path, prefix + tree.hash, True))
            if granular:
                index.listed_dirs.add(t.path)
                if not (t.out.oid and repo.objects.contains(t.out.oid)):
                    index.subdirs[t.path] = _subdirs(path)
                for fh in tree.files:
                    index.add(Entry(f"{t.path}/{fh.relpath}", prefix + fh.hash))
        elif path.exists():
            files[legacy].append((t.path, path))
    for legacy, group in files.items():
        if not group:
            continue
        # One call for all file outputs: the core hashes them in parallel.
        algorithm = LEGACY_ALGORITHM if legacy else "md5"
        prefix = LEGACY_PREFIX if legacy else ""
        hashed = repo.hash_files([p for _, p in group], jobs=jobs, algorithm=algorithm)
        for (rel, _), fh in zip(group, hashed, strict=True):
            index.add(Entry(rel, prefix + fh.hash))
    return index


def _owner(index: Index, path: str) -> str | None:
    """The tracked directory of `index` that holds `path`, if any."""
    for parent in _parent_dirs(path):
        entry = index.entries.get(parent)
        if entry is not None and entry.isdir:
            return parent
    return None


def _kind(old: Entry | None, new: Entry | None, *, hash_only: bool) -> str:
    """The change between two entries of one path, as dvc_data classifies it."""
    old_h = old.hash if old else None
    new_h = new.hash if new else None
    if hash_only:
        # DVC-compat: `data status` compares hashes only (`hash_only=True`).
        if not old_h and new_h:
            return ADD
        if old_h and not new_h:
            return DELETE
        if old_h and new_h and old_h != new_h:
            return MODIFY
        return UNCHANGED
    if old is None and new is not None:
        return ADD
    if old is not None and new is None:
        return DELETE
    assert old is not None and new is not None
    # DVC-compat: `diff` compares hashes and whether the path is a directory.
    if old.isdir != new.isdir or old_h != new_h:
        return MODIFY
    return UNCHANGED


def _key(change: Change) -> tuple[str, ...]:
    # DVC-compat: dvc_data orders keys as tuples of path parts, not as strings.
    entry = change.new if change.typ == ADD else change.old
    assert entry is not None
    return tuple(entry.path.split("/"))


def _subdirs(root: Path) -> list[str]:
    """Every directory below `root` (empty ones too), relative to it; links not followed."""
    found = []
    for dirpath, dirs, _files in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        found += [(rel / d).as_posix() for d in dirs if not (Path(dirpath) / d).is_symlink()]
    return sorted(found)


def _detect_renames(changes: list[Change]) -> list[Change]:
    """Pairs additions with deletions of the same hash, as dvc_data does."""
    added = sorted((c for c in changes if c.typ == ADD), key=_key)
    deleted = sorted((c for c in changes if c.typ == DELETE), key=_key)
    rest = [c for c in changes if c.typ not in (ADD, DELETE)]
    # DVC-compat: the first deletion (in path order) with the same hash pairs with each
    # addition (in path order).
    by_hash: dict[str | None, deque[Change]] = defaultdict(deque)
    for d in deleted:
        by_hash[d.old.hash if d.old else None].append(d)
    for a in added:
        h = a.new.hash if a.new else None
        queue = by_hash.get(h) if h else None
        if queue:
            d = queue.popleft()
            rest.append(Change(RENAME, d.old, a.new))
        else:
            rest.append(a)
    for queue in by_hash.values():
        rest.extend(queue)
    return rest


def compare(old: Index, new: Index, *, hash_only: bool, with_renames: bool = True) -> list[Change]:
    """Every change (unchanged ones included) between two indexes."""
    changes: list[Change] = []
    for path in old.entries.keys() | new.entries.keys():
        o = old.entries.get(path)
        n = new.entries.get(path)
        owner = _owner(old, path) or _owner(new, path)
        if owner is not None and (owner in old.unknown_dirs or owner in new.unknown_dirs):
            # DVC-compat: files of a directory whose `.dir` cannot be read on one side
            # are "unknown", never added or deleted.
            changes.append(Change(UNKNOWN, o, n))
            continue
        changes.append(Change(_kind(o, n, hash_only=hash_only), o, n))
    unknown = old.unknown_dirs | new.unknown_dirs
    for owner, dirs in new.subdirs.items():
        if owner in unknown:
            # DVC-compat: DVC's workspace index holds the directories too, so they are
            # unknown alongside the files.
            changes += [Change(UNKNOWN, None, Entry(f"{owner}/{d}", None, True)) for d in dirs]
    return _detect_renames(changes) if with_renames else changes


def in_targets(path: str, targets: list[str] | None) -> bool:
    """Whether a path is one of the targets or lies inside one."""
    if not targets:
        return True
    return any(path == t or path.startswith(t + "/") for t in targets)


def target_keys(repo: Repo, targets: Iterable[str], cwd: Path | None = None) -> list[str]:
    """Targets as repo-relative `/`-separated paths (no trailing slash)."""
    base = (cwd or Path.cwd()).absolute()
    keys = []
    for t in targets:
        rel = repo.relpath(base / t).rstrip("/")
        keys.append("" if rel == "." else rel)
    return keys


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {"path": entry.display, "hash": entry.shown_hash}


def diff(
    repo: Repo,
    a_rev: str | None = None,
    b_rev: str | None = None,
    *,
    targets: Iterable[str] = (),
    cwd: Path | None = None,
    jobs: int = 0,
) -> dict[str, list[dict[str, Any]]]:
    """DVC's `diff` result: `{"added": [...], ..., "not in cache": [...]}`, or `{}`.

    `a_rev` defaults to HEAD, `b_rev` to the workspace. Entries carry `path` and
    `hash` (`{"old", "new"}` for modifications); lists are sorted by path as
    `dvc diff` prints them.
    """
    scm = repo.scm
    if scm is None:
        raise NoGitError("`diff`")
    if scm.head_commit() is None:
        # DVC-compat: a repository without commits has nothing to compare.
        return {}
    a = resolve_rev(repo, a_rev or "HEAD")
    b = resolve_rev(repo, b_rev) if b_rev else None
    if a == b and (a_rev or "HEAD") != b_rev:
        # DVC-compat: one commit under two names is read once, as "HEAD,main", so
        # targets it lacks are not missing at either name: nothing to compare.
        return {}
    old_outs = cached_outs_at(repo, a)
    new_outs = cached_outs_at(repo, b)
    targets = list(targets)
    old_keys: list[str] = []
    new_keys: list[str] = []
    if targets:
        old_keys, new_keys = _resolve_targets(
            repo, targets, (cwd or Path.cwd()).absolute(), [(a, old_outs), (b, new_outs)]
        )
        old_outs = [t for t in old_outs if _touches(t.path, old_keys)]
        new_outs = [t for t in new_outs if _touches(t.path, new_keys)]
    keys = old_keys + [k for k in new_keys if k not in old_keys]
    with_missing = b is None
    result: dict[str, list[dict[str, Any]]] = {
        ADD: [],
        DELETE: [],
        MODIFY: [],
        RENAME: [],
        "not in cache": [],
    }
    if a == b:
        # DVC-compat: both sides are the same commit, so nothing is compared.
        return {}
    old = rev_index(repo, old_outs).only(old_keys)
    new = workspace_index(repo, new_outs, jobs=jobs) if b is None else rev_index(repo, new_outs)
    new = new.only(new_keys)
    for c in compare(old, new, hash_only=False):
        key_path = (c.new if c.typ == RENAME else (c.old or c.new)).path  # type: ignore[union-attr]
        # DVC-compat: DVC diffs under each target in turn, so a path inside several
        # targets (`dir` and `dir/f`) is listed once per target.
        times = sum(in_targets(key_path, [k]) for k in keys) if keys else 1
        for _ in range(times):
            _record(repo, result, c, with_missing=with_missing)
    if not any(result.values()):
        return {}
    for entries in result.values():
        # DVC-compat: `dvc diff` sorts each list by path (the old path for renames).
        entries.sort(key=lambda e: e["path"]["old"] if isinstance(e["path"], dict) else e["path"])
    return result


def _record(
    repo: Repo, result: dict[str, list[dict[str, Any]]], c: Change, *, with_missing: bool
) -> None:
    """Adds one change to `diff`'s result (and to "not in cache" when its data is missing)."""
    if c.typ == ADD and c.new:
        result[ADD].append(_entry_json(c.new))
    elif c.typ == DELETE and c.old:
        result[DELETE].append(_entry_json(c.old))
    elif c.typ == MODIFY and c.old and c.new:
        result[MODIFY].append(
            {"path": c.old.display, "hash": {"old": c.old.shown_hash, "new": c.new.shown_hash}}
        )
    elif c.typ == RENAME and c.old and c.new:
        result[RENAME].append(
            {"path": {"old": c.old.display, "new": c.new.display}, "hash": c.old.shown_hash}
        )
    if with_missing and c.old and c.old.hash and not repo.objects.contains(c.old.hash):
        result["not in cache"].append(_entry_json(c.old))


def _touches(out_path: str, keys: list[str]) -> bool:
    """Whether an output is a target or holds one."""
    return any(out_path == k or k.startswith(out_path + "/") for k in keys)


def parse_target(target: str) -> tuple[str | None, str | None]:
    """`(file, stage name)` of a target, as DVC reads it (`split_target`)."""
    from mlvc.pipeline.model import split_target

    return split_target(
        target,
        lambda: TargetNotTrackedError(
            target,
            f"`{target}` is a lock file, not a target",
            f"name `{target.replace('.lock', '.yaml', 1)}` for the outputs of its stages",
        ),
    )


class RevTargets:
    """What `--targets` can name at one revision (DVC's `collect_granular`, without `-R`).

    A target is, in this order: a stage (or foreach/matrix group) of the current
    directory's `dvc.yaml`; a `.dvc` file, a `dvc.yaml` (every stage of it) or
    `path/dvc.yaml:stage`; an output, or a path inside one.
    """

    def __init__(self, repo: Repo, rev: str | None, outs: list[TrackedOut]) -> None:
        from mlvc.pipeline.revtree import Tree

        self.repo = repo
        self.outs = outs  # the cached outputs: what `diff` compares
        tree = Tree(repo, rev)
        files = tree.pipelines().files if tree.pipeline_files() else []
        self.stages: dict[str, list[Stage]] = {f.path: list(f.stages.values()) for f in files}
        self.dvcfiles: set[str] = set()
        # Every output, `cache: false` ones too, with whether DVC versions its data.
        self.declared: list[tuple[str, bool]] = []
        for dvcfile in dvcfiles_at(repo, rev):
            self.dvcfiles.add(repo.relpath(dvcfile.path))
            for out in dvcfile.outs:
                self.declared.append((repo.relpath(dvcfile.out_path(out)), out.cache))
        for stages in self.stages.values():
            for stage in stages:
                self.declared += [(stage.repo_path(o.path), o.cache) for o in stage.outs]

    def _outputs_of(self, owners: set[str]) -> list[str]:
        return [t.path for t in self.outs if t.stage_name in owners]

    def _stages(self, rel: str, name: str | None) -> list[str] | None:
        stages = self.stages.get(rel)
        if stages is None:
            return None
        hits = {s.addressing for s in stages if name is None or name in (s.name, s.generated_from)}
        return self._outputs_of(hits) if hits or name is None else None

    def keys(self, target: str, cwd: Path) -> list[str] | None:
        """The paths of data a target names here, or None when it names nothing here.

        The paths are outputs, or paths inside directory outputs; an output DVC does not
        version (`cache: false`) is named but has no data to compare.
        """
        from mlvc.pipeline.model import DVCFILE_SUFFIX, PROJECT_FILE, is_stage_file

        file, name = parse_target(target)
        if file is None:
            assert name is not None
            here = self.repo.relpath(cwd / PROJECT_FILE)
            if any(name in (s.name, s.generated_from) for s in self.stages.get(here, [])):
                return self._stages(here, name)
        elif is_stage_file(file):
            rel = self.repo.relpath(cwd / file)
            if rel.endswith(DVCFILE_SUFFIX):
                # DVC-compat: a stage name after a `.dvc` file is ignored.
                return self._outputs_of({rel}) if rel in self.dvcfiles else None
            return self._stages(rel, name)
        rel = self.repo.relpath(cwd / target)
        for path, cache in self.declared:
            if rel == path or rel.startswith(path + "/"):
                return [rel] if cache else []
        return None


def _resolve_targets(
    repo: Repo, targets: list[str], cwd: Path, sides: list[tuple[str | None, list[TrackedOut]]]
) -> list[list[str]]:
    """For each side, the paths of data the targets name there.

    DVC-compat: a target that names nothing at one revision only adds nothing there.
    One that names nothing at either is an error (DVC 3.67 fails with an unexpected
    error, exit 255, on such a target, e.g. a directory that merely holds outputs).
    """
    from mlvc.pipeline.model import DVCFILE_SUFFIX

    found = [RevTargets(repo, rev, outs) for rev, outs in sides]
    keys: list[list[str]] = [[] for _ in sides]
    for target in targets:
        file, name = parse_target(target)
        if name and file and file.endswith(DVCFILE_SUFFIX):
            # DVC-compat: DVC warns too, and reads the `.dvc` file alone.
            sys.stderr.write(f"warning: ignoring the stage name `{name}` after `{file}`\n")
        named = [side.keys(target, cwd) for side in found]
        if all(k is None for k in named):
            raise TargetNotTrackedError(target)
        for side_keys, k in zip(keys, named, strict=True):
            side_keys += [p for p in k or [] if p not in side_keys]
    return keys


def hide_hashes(result: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The result without `hash` keys (what `dvc diff` prints without `--show-hash`)."""
    return {k: [{"path": e["path"]} for e in v] for k, v in result.items()}


def _digest(value: Any) -> str:
    """A hash cut to 8 characters; `old..new` for a modification. A missing hash is blank.

    Deliberately unlike DVC 3.67, which fails with an unexpected error on a missing
    hash (an output of a stage that never ran) under `--show-hash`.
    """
    if value is None or isinstance(value, str):
        return (value or "")[:8]
    return f"{(value['old'] or '')[:8]}..{(value['new'] or '')[:8]}"


def _path_text(entry: dict[str, Any]) -> str:
    path = entry["path"]
    return f"{path['old']} -> {path['new']}" if isinstance(path, dict) else str(path)


# DVC-compat: the order in which `dvc diff` prints its groups.
TEXT_STATES = (ADD, DELETE, RENAME, MODIFY, "not in cache")


def as_text(result: dict[str, list[dict[str, Any]]], *, hide_missing: bool = False) -> str:
    """DVC's text form: one group per state, then a `files summary:` line."""
    lines: list[str] = []
    summary: dict[str, int] = {}
    states = [s for s in TEXT_STATES if not (hide_missing and s == "not in cache")]
    for state in states:
        entries = result.get(state, [])
        summary[state] = 0
        if not entries:
            continue
        lines.append(f"{state.capitalize()}:")
        for e in entries:
            path = _path_text(e)
            if not path.endswith("/"):
                # DVC-compat: directories are listed but not counted in the summary.
                summary[state] += 1
            digest = f"{_digest(e['hash'])}  " if e.get("hash") else ""
            lines.append(f"    {digest}{path}")
        lines.append("")
    if sum(summary.values()):
        counts = ", ".join(f"{n} {s}" for s, n in summary.items() if n)
        lines.append(f"files summary: {counts}")
    return "".join(line + "\n" for line in lines)


def as_markdown(
    result: dict[str, list[dict[str, Any]]], *, show_hash: bool, hide_missing: bool = False
) -> str:
    """DVC's `--md` form: a GitHub-flavoured table, printed even when it has no rows."""
    from mlvc.render.table import render_table

    headers = ["Status", "Hash", "Path"] if show_hash else ["Status", "Path"]
    rows: list[list[str]] = []
    for state in TEXT_STATES:
        if hide_missing and state == "not in cache":
            continue
        for e in result.get(state, []):
            row = [state, _digest(e.get("hash", ""))] if show_hash else [state]
            rows.append([*row, _path_text(e)])
    return render_table(headers, rows, markdown=True)
