"""`checkout`: make the workspace match the `.dvc` files, from the cache."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError
from mlvc.ops.status import is_dvcfile_target, select_dvcfiles
from mlvc.repo import Repo

if TYPE_CHECKING:
    from mlvc._core import CheckoutResult
    from mlvc.revs import TrackedOut


class CheckoutConflictError(MlvcError):
    """Checkout would overwrite data that exists nowhere else."""

    hint = "commit or move the changes first, or rerun with `--force` to discard them"
    # DVC-compat: `pull` fails so with 1; `checkout` sets 255.
    exit_code = 1


class CheckoutFailedError(MlvcError):
    """Some outputs could not be restored (their objects are not in the cache)."""

    hint = "fetch them from a remote with `mlvc fetch` (or `mlvc pull`)"


@dataclass
class CheckoutSummary:
    """What a checkout changed: outputs (repo paths, `/` after a directory) and files."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    link_types: set[str] = field(default_factory=set)
    # DVC-compat: files counted one by one, in DVC's order (`--summary`, `pull`):
    # a file whose execute bit alone was set counts as modified.
    files: dict[str, int] = field(default_factory=lambda: {"modified": 0, "added": 0, "deleted": 0})

    def record(
        self, path: str, existed: bool, res: CheckoutResult, *, changed: bool = False
    ) -> None:
        """Counts one output's checkout: `path` as added or modified when files changed."""
        if changed or res.linked or res.removed:
            (self.modified if existed else self.added).append(path)
        else:
            self.unchanged += 1
        self.files["added"] += res.created
        self.files["modified"] += len(res.linked) - res.created
        self.files["deleted"] += len(res.removed)
        if res.link_type:
            self.link_types.add(res.link_type)

    def lines(self, repo: Repo, cwd: Path | None = None) -> list[str]:
        """DVC's report lines: `M`, then `A`, then `D`, each with the output's path.

        DVC-compat: paths are relative to the current directory (`./` for itself),
        directories first and then alphabetically within each letter.
        """
        cwd = cwd or Path.cwd()
        found = []
        for letter, paths in (("M", self.modified), ("A", self.added), ("D", self.deleted)):
            shown = []
            for p in paths:
                rel = os.path.relpath(repo.root / p, cwd)
                shown.append(os.path.join(rel, "") if p.endswith("/") else rel)
            shown.sort(key=lambda p: (not p.endswith("/"), p))
            found += [f"{letter}       {p}" for p in shown]
        return found

    def merge(self, other: CheckoutSummary) -> None:
        """Adds another checkout's changes to this one."""
        self.added += other.added
        self.modified += other.modified
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.link_types |= other.link_types
        for word, n in other.files.items():
            self.files[word] += n


def plural(n: int, word: str = "file") -> str:
    """`1 file`, `2 files`."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def humanize_join(parts: list[str]) -> str:
    """DVC-compat: `a`, `a and b`, `a, b and c`."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def conflict_error(conflicts: list[str]) -> CheckoutConflictError:
    """The error for repo paths a checkout would overwrite without `--force`."""
    shown = ", ".join(f"`{c}`" for c in conflicts[:5])
    more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
    return CheckoutConflictError(
        f"checkout would overwrite changes that are not in the cache: {shown}{more}"
    )


def _by_path(repo: Repo, targets: list[str], cwd: Path) -> tuple[list[TrackedOut], list[str]]:
    """Targets naming an output by its path (whole, or limited to a path inside it), and
    the others (`.dvc` files, stage names and unknown targets).

    DVC-compat: as DVC's `collect_granular`, a `.dvc` or `dvc.yaml` file comes first,
    then a stage of `./dvc.yaml`, then an output (of a `.dvc` file or a stage) at or
    around the path; `checkout DIR/PATH` restores only what is under `PATH` of `DIR`
    (or the file of `DIR` that `PATH` goes through), `checkout FILE/PATH` the `FILE`.
    """
    from mlvc import revs
    from mlvc.pipeline.lockfile import LOCK_FILE
    from mlvc.pipeline.model import PROJECT_FILE

    def by_name(t: str) -> bool:
        return is_dvcfile_target(cwd, t) or ":" in t or t.endswith((PROJECT_FILE, LOCK_FILE))

    if all(by_name(t) for t in targets):
        return [], targets
    from mlvc.pipeline.revtree import Tree

    outs = [
        t
        for t in revs.outs_at(repo, None) + revs.stage_outs_at(repo, None)
        if t.out.cache and t.out.md5
    ]
    here = repo.relpath(cwd / PROJECT_FILE)
    tree = Tree(repo, None)
    names = {
        name
        for f in (tree.pipelines().files if tree.pipeline_files() else [])
        if f.path == here
        for s in f.stages.values()
        for name in (s.name, s.generated_from)
    }
    found: list[TrackedOut] = []
    others: list[str] = []
    for target in targets:
        rel = repo.relpath(cwd / target)
        hits = (
            []
            if by_name(target) or target in names
            else [t for t in outs if t.path == rel or t.within_of(rel)]
        )
        found += [replace(t, within=t.within_of(rel)) for t in hits]
        if not hits:
            others.append(target)
    return found, others


def checkout_within(
    repo: Repo,
    outs: list[TrackedOut],
    summary: CheckoutSummary,
    *,
    force: bool = False,
    relink: bool = False,
    jobs: int = 0,
) -> list[str]:
    """Checks out only what is under each output's `within`; returns those failed.

    DVC-compat: `checkout DIR/PATH` (and `pull DIR/PATH`) of a tracked `DIR` restores
    the files under `PATH` and deletes the files there that `DIR` does not hold (with
    the same care for unsaved data as a whole checkout); the rest of `DIR` is left
    alone. `DIR` is created even when nothing is to be written into it. A `PATH` that
    goes through a file of `DIR` (or `FILE/PATH` of a tracked file) writes that file
    from the cache even when it is right or holds unsaved changes (DVC builds its
    workspace entry as a directory without a hash, so always sees it changed and
    nothing to save), and counts it as modified (added when it was missing).
    """
    withins: dict[str, list[TrackedOut]] = {}
    for t in outs:
        withins.setdefault(t.path, []).append(t)
    failed: list[str] = []
    conflicts: list[str] = []
    for path, group in withins.items():
        out = group[0].out
        md5 = out.md5 or ""
        dest = repo.root / path
        if not out.is_dir:
            existed = dest.exists()
            res = repo.cache.checkout_files(
                [(dest, md5, out.isexec)],
                link_types=repo.link_types,
                force=force,
                jobs=jobs,
                state=repo.state,
                rewrite=True,
            )
            if res.conflicts:
                conflicts.extend(repo.relpath(Path(c)) for c in res.conflicts)
            elif res.missing:
                failed.append(path)
            else:
                summary.record(path, existed, res)
            continue
        if not repo.cache.contains(md5):
            failed.append(path)
            continue
        existed = dest.exists()
        res = repo.cache.checkout_tree(
            md5,
            dest,
            link_types=repo.link_types,
            force=force,
            relink=relink,
            jobs=jobs,
            ignore_root=repo.root,
            state=repo.state,
            within=sorted({t.within for t in group}),
        )
        if res.conflicts:
            conflicts.extend(repo.relpath(Path(c)) for c in res.conflicts)
            continue
        if res.missing:
            failed.append(path)
        if not existed:
            dest.mkdir(parents=True, exist_ok=True)
        summary.record(path + "/", existed, res, changed=not existed)
    if conflicts:
        raise conflict_error(conflicts)
    return failed


def checkout(
    repo: Repo,
    targets: list[str] | None = None,
    *,
    cwd: Path | None = None,
    force: bool = False,
    relink: bool = False,
    jobs: int = 0,
) -> CheckoutSummary:
    """Restores every selected output; refuses (changing nothing) where data would be lost."""
    cwd = (cwd or Path.cwd()).absolute()
    summary = CheckoutSummary()
    link_types = repo.link_types
    with repo.lock():
        plans = []
        named, rest = _by_path(repo, targets or [], cwd)
        whole = {t.path for t in named if not t.within}
        plans += [(repo.root / t.path, t.out) for t in named if not t.within]
        inside = [t for t in named if t.within and t.path not in whole]
        if inside:
            summary.failed += checkout_within(
                repo, inside, summary, force=force, relink=relink, jobs=jobs
            )
        # Targets that are not `.dvc` files (or their data) name pipeline stages.
        data_targets = [t for t in rest if is_dvcfile_target(cwd, t)]
        stage_targets = [t for t in rest if t not in data_targets]
        if data_targets or not targets:
            for path in select_dvcfiles(repo, data_targets, cwd):
                dvcfile = DvcFile.load(path)
                for out in dvcfile.outs:
                    if out.md5 is None or not out.cache:
                        continue
                    plans.append((dvcfile.out_path(out), out))
        if stage_targets or not targets:
            from mlvc.ops.repro import locked_outputs

            plans.extend(locked_outputs(repo, stage_targets, cwd=cwd))
        conflicts: list[str] = []
        for dest, out in plans:
            existed = dest.exists()
            if out.is_dir:
                if not repo.cache.contains(out.md5 or ""):
                    summary.failed.append(repo.relpath(dest))
                    continue
                res = repo.cache.checkout_tree(
                    out.md5 or "",
                    dest,
                    link_types=link_types,
                    force=force,
                    relink=relink,
                    jobs=jobs,
                    ignore_root=repo.root,
                    state=repo.state,
                )
            else:
                res = repo.cache.checkout_files(
                    [(dest, out.md5 or "", out.isexec)],
                    link_types=link_types,
                    force=force,
                    relink=relink,
                    jobs=jobs,
                    state=repo.state,
                )
            if res.conflicts:
                conflicts.extend(repo.relpath(Path(c)) for c in res.conflicts)
                continue
            if res.missing:
                summary.failed.append(repo.relpath(dest))
            summary.record(repo.relpath(dest) + ("/" if out.is_dir else ""), existed, res)
        if conflicts:
            raise conflict_error(conflicts)
    return _finished(summary)


def _finished(summary: CheckoutSummary) -> CheckoutSummary:
    if summary.failed:
        raise CheckoutFailedError(
            "objects missing from the cache for: " + ", ".join(f"`{f}`" for f in summary.failed)
        )
    return summary
