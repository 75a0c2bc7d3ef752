"""mlvc: fast, local-first versioning of data, models, pipelines and experiments on Git.

mlvc reads and writes DVC 3.x's files and cache, so it can stand in for ``dvc``
on an existing repository. The heavy lifting (hashing, walking, caching,
linking, git objects) is done by the Rust core, ``mlvc._core``; this package
re-exports the part of it meant for embedding::

    import mlvc
    tree = mlvc.hash_tree("data")          # DVC's directory hash, in parallel
    print(tree.hash, tree.nfiles, tree.size)
"""

from __future__ import annotations

# `mlvc.exceptions.StateError` and the rest work after a bare `import mlvc`.
from mlvc import exceptions as exceptions
from mlvc._core import (
    Cache,
    CheckoutResult,
    FileHash,
    Git,
    State,
    TreeHash,
    WalkedFile,
    build_manifest,
    hash_file,
    hash_files,
    hash_tree,
    parse_manifest,
    supported_link_types,
    walk,
)
from mlvc._core import __version__ as __version__

__all__ = [
    "Cache",
    "CheckoutResult",
    "FileHash",
    "Git",
    "State",
    "TreeHash",
    "WalkedFile",
    "__version__",
    "build_manifest",
    "hash_file",
    "hash_files",
    "hash_tree",
    "parse_manifest",
    "supported_link_types",
    "walk",
]
