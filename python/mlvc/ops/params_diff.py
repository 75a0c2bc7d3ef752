"""`params diff`: params of the pipelines compared between two revisions.

As DVC does, the values are read from the params files of each revision (not from
`dvc.lock`): the keys stages depend on, top-level `params` files and the whole
`params.yaml`.
"""

from __future__ import annotations

import posixpath
from typing import Any

from mlvc.ops.metrics import (
    MetricsFileError,
    RevResult,
    compared_revisions,
    diff_results,
    expand,
    gather,
    parse_file,
    repo_target,
)
from mlvc.pipeline.params import DEFAULT_PARAMS_FILE, select_params
from mlvc.pipeline.revtree import Tree
from mlvc.repo import Repo


def _merge(entries: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    # DVC-compat: a file tracked whole (no keys) anywhere is read whole.
    whole = {path for path, keys in entries if not keys}
    merged: dict[str, list[str]] = {}
    for path, keys in entries:
        merged.setdefault(path, [])
        if path not in whole:
            merged[path] += [k for k in keys if k not in merged[path]]
    return merged


def collect_params(tree: Tree, targets: list[str], *, deps_only: bool) -> dict[str, Any]:
    """`{path: {"data": ...} | {"error": exc}}` for the params files of one revision."""
    entries: list[tuple[str, list[str]]] = [(t, []) for t in targets]
    if not targets:
        pipelines = tree.pipelines()
        for stage in pipelines.stages:
            entries += [(stage.repo_path(ref.path), list(ref.keys)) for ref in stage.params]
        if not deps_only:
            for dvcfile in pipelines.files:
                base = posixpath.dirname(dvcfile.path)
                entries += [
                    (posixpath.normpath(posixpath.join(base, p)), []) for p in dvcfile.params
                ]
            if tree.exists(DEFAULT_PARAMS_FILE):
                entries.append((DEFAULT_PARAMS_FILE, []))
    result: dict[str, Any] = {}
    for path, keys in _merge(entries).items():
        for file in expand(tree, [path]):
            try:
                data = parse_file(tree.read(file), file)
                result[file] = {"data": select_params(data, keys) if keys else data}
            except (OSError, MetricsFileError) as exc:
                result[file] = {"error": exc}
    return result


def params_diff(
    repo: Repo,
    a_rev: str,
    b_rev: str,
    targets: list[str],
    *,
    with_unchanged: bool = False,
    deps_only: bool = False,
) -> tuple[dict[str, dict[str, Any]], dict[str, RevResult]]:
    """Changed params between two revisions, and the results they came from."""
    revs = compared_revisions(repo, a_rev, b_rev)
    if revs is None:
        return {}, {}
    rel = [repo_target(repo, t) for t in targets]
    results = gather(repo, revs, lambda tree: collect_params(tree, rel, deps_only=deps_only))
    return diff_results(results, a_rev, b_rev, with_unchanged=with_unchanged), results
