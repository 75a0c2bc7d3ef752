"""`params diff`: params of the pipelines compared between two revisions.

As DVC does, the values are read from the params files of each revision (not from
`dvc.lock`): the keys stages depend on, top-level `params` files and the whole
`params.yaml`.
"""

from __future__ import annotations

import os
import posixpath
from copy import deepcopy
from pathlib import Path
from typing import Any

from mlvc.ops.metrics import (
    MetricsFileError,
    RevFiles,
    RevResult,
    compared_revisions,
    diff_results,
    gather,
    parse_file,
)
from mlvc.pipeline.params import DEFAULT_PARAMS_FILE
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


_MISSING = object()


def _search(node: Any, parts: list[str]) -> Any:
    """The value at `parts` inside its parents, other branches left out (`_MISSING`: none).

    DVC-compat: dpath's `search`; an index keeps its place in a list padded with None.
    """
    if not parts:
        return deepcopy(node)
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key) == head:
                found = _search(value, rest)
                return _MISSING if found is _MISSING else {key: found}
        return _MISSING
    if isinstance(node, list | tuple):
        try:
            index = int(head)
        except ValueError:
            return _MISSING
        if -len(node) <= index < 0:
            index += len(node)
        if 0 <= index < len(node):
            found = _search(node[index], rest)
            return _MISSING if found is _MISSING else [None] * index + [found]
    return _MISSING


def _merge_into(dst: dict[Any, Any], src: dict[Any, Any]) -> None:
    # DVC-compat: dpath's additive merge, where lists are concatenated.
    for key, value in src.items():
        old = dst.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            _merge_into(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            dst[key] = old + value
        else:
            dst[key] = value


def select_keys(data: Any, keys: list[str]) -> dict[str, Any]:
    """The tracked keys of a params file, nested as in the file (DVC's `read_param_file`)."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys(keys):
        found = _search(data, key.split("."))
        if isinstance(found, dict):
            _merge_into(out, found)
    return out


def collect_params(tree: Tree, targets: list[str], *, deps_only: bool) -> dict[str, Any]:
    """`{path: {"data": ...} | {"error": exc}}` for the params files of one revision."""
    entries: list[tuple[str, list[str]]] = [(t, []) for t in targets]
    pipelines = None
    if not targets:
        pipelines = tree.pipelines(track_vars=True)
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
    files = RevFiles(tree)
    result: dict[str, Any] = {}
    for path, keys in _merge(entries).items():
        # DVC-compat: a target that climbs above the root (`../p.yaml`) reads the
        # file at the root, and keeps its own name.
        inside = posixpath.normpath("/" + path).lstrip("/") or "."
        found = {f: f for f in files.find(inside)} if files.isdir(inside) else {path: inside}
        for name, file in found.items():
            try:
                # DVC-compat: an empty (falsy) params file reads as `{}` and shows nothing.
                data = parse_file(files.read(file), file) or {}
                result[name] = {"data": select_keys(data, keys) if keys else data}
            except (OSError, MetricsFileError) as exc:
                result[name] = {"error": exc}
    if pipelines is not None:
        # DVC-compat: values `${...}` took from other files count as params too,
        # as recorded when the stages were resolved.
        used: dict[str, dict[str, Any]] = {}
        for stage in pipelines.stages:
            for file, values in stage.tracked_vars.items():
                if file not in result:
                    used.setdefault(file, {}).update(values)
        result.update({file: {"data": values} for file, values in used.items()})
    return result


def params_target(repo: Repo, target: str) -> str:
    """A `--targets` path of `params diff` as a repository path.

    DVC-compat: unlike `metrics diff`, DVC reads a relative params target from the
    repository's root, wherever the command runs (an absolute one is made relative to
    the root).
    """
    if os.path.isabs(target):
        target = os.path.relpath(target, repo.root)
    return posixpath.normpath(Path(target).as_posix())


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
    rel = [params_target(repo, t) for t in targets]
    results = gather(repo, revs, lambda tree: collect_params(tree, rel, deps_only=deps_only))
    return diff_results(results, a_rev, b_rev, with_unchanged=with_unchanged), results
