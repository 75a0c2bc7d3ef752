"""`status`: which tracked outputs differ from what their `.dvc` files record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlvc.dvcfile import DvcFile
from mlvc.output import Output
from mlvc.repo import Repo

# DVC-compat: the words `dvc status` uses for an output's state.
MODIFIED = "modified"
DELETED = "deleted"
NOT_IN_CACHE = "not in cache"


@dataclass
class OutStatus:
    """One output that is not as recorded."""

    dvcfile: Path
    out: Output
    path: Path
    state: str


def current_hash(repo: Repo, path: Path, *, jobs: int = 0) -> tuple[str, int, int | None] | None:
    """`(hash, size, nfiles)` of a workspace path, or None when it does not exist."""
    if path.is_dir():
        tree = repo.hash_tree(path, jobs=jobs)
        return tree.hash, tree.size, tree.nfiles
    if not path.exists():
        return None
    (fh,) = repo.hash_files([path], jobs=jobs)
    return fh.hash, fh.size, None


def out_state(repo: Repo, dvcfile: DvcFile, out: Output, *, jobs: int = 0) -> str | None:
    """The state word for one output, or None when it matches its record."""
    path = dvcfile.out_path(out)
    current = current_hash(repo, path, jobs=jobs)
    if current is None:
        return DELETED
    if out.md5 is None or current[0] != out.md5:
        return MODIFIED
    if out.cache and not repo.cache.contains(out.md5):
        return NOT_IN_CACHE
    return None


def select_dvcfiles(repo: Repo, targets: Iterable[str], cwd: Path) -> list[Path]:
    """`.dvc` files named by targets (a `.dvc` file, or the data it tracks); all when none."""
    chosen = []
    for t in targets:
        p = (cwd / t).absolute()
        if p.suffix == ".dvc" and p.is_file():
            chosen.append(p)
        elif p.with_name(p.name + ".dvc").is_file():
            chosen.append(p.with_name(p.name + ".dvc"))
        else:
            raise FileNotFoundError(2, "not tracked by any `.dvc` file", t)
    return chosen if chosen else repo.dvcfiles()


def status(
    repo: Repo, targets: Iterable[str] = (), *, cwd: Path | None = None, jobs: int = 0
) -> list[OutStatus]:
    """Lists outputs that changed, were deleted or are missing from the cache."""
    cwd = (cwd or Path.cwd()).absolute()
    found = []
    for path in select_dvcfiles(repo, list(targets), cwd):
        dvcfile = DvcFile.load(path)
        for out in dvcfile.outs:
            state = out_state(repo, dvcfile, out, jobs=jobs)
            if state is not None:
                found.append(OutStatus(path, out, dvcfile.out_path(out), state))
    return found


def as_json(repo: Repo, found: list[OutStatus]) -> dict[str, list[dict[str, dict[str, str]]]]:
    """DVC's `status --json` shape: `{"x.dvc": [{"changed outs": {"x": "modified"}}]}`."""
    result: dict[str, list[dict[str, dict[str, str]]]] = {}
    for s in found:
        key = repo.relpath(s.dvcfile)
        entries = result.setdefault(key, [{"changed outs": {}}])
        entries[0]["changed outs"][repo.relpath(s.path)] = s.state
    return result


def as_text(repo: Repo, found: list[OutStatus]) -> str:
    """DVC's text form: the file, `changed outs:`, then `<state>: <path>` lines."""
    if not found:
        return "Data and pipelines are up to date.\n"
    lines: list[str] = []
    for name, entries in as_json(repo, found).items():
        lines.append(f"{name}:")
        lines.append("\tchanged outs:")
        for path, state in entries[0]["changed outs"].items():
            lines.append(f"\t\t{(state + ':').ljust(20)}{path}")
    return "\n".join(lines) + "\n"
