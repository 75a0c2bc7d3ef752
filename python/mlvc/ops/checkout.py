"""`checkout`: make the workspace match the `.dvc` files, from the cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError
from mlvc.ops.status import is_dvcfile_target, select_dvcfiles
from mlvc.repo import Repo


class CheckoutConflictError(MlvcError):
    """Checkout would overwrite data that exists nowhere else."""

    hint = "commit or move the changes first, or rerun with `--force` to discard them"


class CheckoutFailedError(MlvcError):
    """Some outputs could not be restored (their objects are not in the cache)."""

    hint = "fetch them from a remote with `mlvc fetch` (or `mlvc pull`)"


@dataclass
class CheckoutSummary:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    link_types: set[str] = field(default_factory=set)
    # Outputs (as listed in `added`/`modified`) only partly checked out, with the
    # number of their files that were added and modified.
    partial: dict[str, tuple[int, int]] = field(default_factory=dict)


def conflict_error(conflicts: list[str]) -> CheckoutConflictError:
    """The error for repo paths a checkout would overwrite without `--force`."""
    shown = ", ".join(f"`{c}`" for c in conflicts[:5])
    more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
    return CheckoutConflictError(
        f"checkout would overwrite changes that are not in the cache: {shown}{more}"
    )


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
        # Targets that are not `.dvc` files (or their data) name pipeline stages.
        data_targets = [t for t in targets or [] if is_dvcfile_target(cwd, t)]
        stage_targets = [t for t in targets or [] if t not in data_targets]
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
            rel = repo.relpath(dest) + ("/" if out.is_dir else "")
            if res.linked or res.removed:
                (summary.modified if existed else summary.added).append(rel)
            else:
                summary.unchanged += 1
            if res.link_type:
                summary.link_types.add(res.link_type)
        if conflicts:
            raise conflict_error(conflicts)
    if summary.failed:
        raise CheckoutFailedError(
            "objects missing from the cache for: " + ", ".join(f"`{f}`" for f in summary.failed)
        )
    return summary
