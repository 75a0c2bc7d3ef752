"""Saving an output: hash it, store it in the cache, link the workspace back to it.

`add`, `commit` and `repro` all record outputs this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlvc
from mlvc import placed
from mlvc.ops.unprotect import is_linked, make_private
from mlvc.output import DataInfo
from mlvc.progress import Progress
from mlvc.repo import Repo


@dataclass(frozen=True)
class Saved(DataInfo):
    """What an output was saved as."""

    link_type: str | None = None  # how the workspace was linked back, if it was


def first_link_type(link_types: str) -> str:
    """The link type `cache.type` tries first (`reflink` of `reflink,copy`)."""
    return link_types.split(",")[0].strip()


def links_to_cache(link_types: str) -> bool:
    """Whether the workspace ends up linked to the cache (hardlink or symlink first).

    Then files are hard-linked into the cache (no data is copied or moved, and a
    killed command never leaves a workspace file missing) and linked back as configured.
    """
    return first_link_type(link_types) in ("hardlink", "symlink")


def _already_linked(link_types: str, tree: mlvc.TreeHash) -> bool:
    """Whether inserting `tree` left every file hard-linked to its object, which
    is what a checkout with hardlinks first would make of it."""
    return first_link_type(link_types) == "hardlink" and tree.linked_in_place == tree.nfiles


def save_output(
    repo: Repo,
    path: Path,
    *,
    store: bool = True,
    relink: bool = True,
    jobs: int = 0,
    progress: Progress | None = None,
) -> Saved:
    """Hashes the file or directory at `path` and, with `store`, puts it in the cache.

    With `relink` and `cache.type` hardlink or symlink first, the workspace is then
    linked to the cache as a checkout would leave it, a lone file's mode becoming 0644
    (DVC-compat: `add`, `commit` and `repro` relink what they record). With copy or
    reflink first, a directory's files are relinked only where they share an inode
    (hardlinks into the cache become private copies).
    Without `relink` (`--no-relink`) the workspace is left exactly as it is and the
    cache gets a copy.
    """
    link_types = repo.link_types
    linked = store and relink and links_to_cache(link_types)
    mode = "link" if linked else "copy"
    # Normalizing removes workspace symlinks for the relink below to remake; the
    # relink replaces them by rename instead, so a killed command loses no file.
    normalize = relink and not linked
    link_type = None
    if path.is_dir():
        if not store:
            tree = repo.hash_tree(path, jobs=jobs, progress=progress)
            return Saved(tree.hash, tree.size, tree.nfiles, False)
        tree = repo.cache.add_tree(
            path,
            mode=mode,
            jobs=jobs,
            ignore_root=repo.root,
            state=repo.state,
            progress=progress,
            normalize=normalize,
        )
        if linked and _already_linked(link_types, tree):
            link_type = "hardlink"  # the links a checkout would make exist already
        elif linked:
            # DVC-compat: saving keeps the directory's empty subdirectories (checkout
            # removes them).
            res = repo.cache.checkout_tree(
                tree.hash,
                path,
                link_types=link_types,
                relink=True,
                jobs=jobs,
                state=repo.state,
                keep_empty_dirs=True,
            )
            link_type = res.link_type
        elif relink and (shared := tree.hardlinked):
            # DVC-compat: with a copy (or reflink) first, a file sharing its inode is
            # relinked as configured, so a link into the cache becomes a private copy
            # and its object stays read-only. Plain copies are left as they are.
            res = repo.cache.checkout_files(
                [(p, h, False) for p, h in shared],
                link_types=link_types,
                relink=True,
                jobs=jobs,
                state=repo.state,
            )
            link_type = res.link_type
            if link_type in ("copy", "reflink"):
                # Copies of their objects, as a checkout makes: the next look trusts them.
                tree.record_private_copies(repo.state, jobs=jobs)
        placed.remember(repo.tmp_dir, repo.relpath(path), tree.hash)
        return Saved(tree.hash, tree.size, tree.nfiles, False, link_type)
    if not store:
        (fh,) = repo.hash_files([path])
        return Saved(fh.hash, fh.size, None, fh.isexec)
    if relink and not linked and is_linked(path):
        # DVC-compat: with a copy first, a link into the cache becomes a private copy
        # before its mode is set; its object stays read-only.
        make_private(path)
        repo.state.forget(path)
    fh = repo.cache.add_file(path, mode=mode, state=repo.state, normalize=normalize)
    # DVC-compat: a lone file is relinked with `reflink` first too (where reflinks fail
    # it gets the next type's link); a directory's copies stay copies then.
    if linked or (relink and first_link_type(link_types) == "reflink"):
        res = repo.cache.checkout_files(
            [(path, fh.hash, fh.isexec)], link_types=link_types, relink=True, state=repo.state
        )
        link_type = res.link_type
    placed.remember(repo.tmp_dir, repo.relpath(path), fh.hash)
    return Saved(fh.hash, fh.size, None, fh.isexec, link_type)


def is_empty(info: tuple[str, int, int | None, bool]) -> bool:
    """An empty file or a directory without files (DVC-compat: DVC warns of both when
    it saves a stage's outputs)."""
    _md5, size, nfiles, _isexec = info
    return nfiles == 0 if nfiles is not None else size == 0
