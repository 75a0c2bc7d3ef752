"""The run cache: `<cache>/runs/<key[:2]>/<key>/<value>`, shared with DVC.

A run is keyed by its command, deps and params (sha256 of DVC's JSON of the lock
entry with outs reduced to paths); the file name hashes the whole entry; the
file holds the entry as YAML.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from mlvc import parsecache
from mlvc._core import write_new_file
from mlvc.pipeline.model import Stage
from mlvc.yamldata import YamlError

_EXCLUDE = ("size", "nfiles")


def _filtered(value: Any) -> Any:
    # DVC-compat: dvc.utils.dict_filter drops these keys at any depth, params included.
    if isinstance(value, dict):
        return {k: _filtered(v) for k, v in value.items() if k not in _EXCLUDE}
    if isinstance(value, list):
        return [_filtered(v) for v in value]
    return value


def _sha256(entry: dict[str, Any]) -> str:
    import hashlib  # its OpenSSL start-up costs a no-op `repro` nothing this way

    text = json.dumps(_filtered(entry), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_key(entry: dict[str, Any]) -> str:
    """The directory key: the entry with `outs` as a list of paths."""
    keyed = dict(entry)
    keyed["outs"] = [o["path"] for o in entry.get("outs", [])]
    return _sha256(keyed)


def run_value(entry: dict[str, Any]) -> str:
    return _sha256(entry)


def can_cache(stage: Stage) -> bool:
    """DVC-compat `_can_hash`: a command, deps and outs, none persistent, not always run."""
    if stage.always_changed or not stage.cmd:
        return False
    if not (stage.deps or stage.params) or not stage.outs:
        return False
    for out in stage.outs:
        path = stage.repo_path(out.path)
        if out.persist or "://" in out.path or path.startswith("../") or os.path.isabs(path):
            return False
    return True


def can_save(stage: Stage) -> bool:
    """Runs are recorded unless a plain output (not a metric or plot) is uncached."""
    return can_cache(stage) and all(o.cache or o.kind != "outs" for o in stage.outs)


class RunCache:
    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "runs"

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def save(self, entry: dict[str, Any]) -> Path | None:
        """Records a run (entry without the stage name); returns the new file, if any."""
        from mlvc import yamlplain

        key, value = run_key(entry), run_value(entry)
        path = self._dir(key) / value
        # Written complete or not at all, without a temp name (a thousand quick
        # stages make a thousand entries); the name hashes the content, so an
        # existing file already holds this entry. DVC-compat: 0644 whatever the umask.
        if not write_new_file(path, yamlplain.dumps(entry).encode("utf-8"), 0o644):
            return None
        return path

    def lookup(self, keyed_entry: dict[str, Any]) -> dict[str, Any] | None:
        """The newest recorded run with this command, deps and params, if any."""
        directory = self._dir(run_key(keyed_entry))
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return None
        candidates = []
        for name in names:
            with contextlib.suppress(OSError):
                candidates.append((os.path.getmtime(directory / name), name))
        for _, name in sorted(candidates, reverse=True):
            try:
                data = parsecache.load_yaml((directory / name).read_text(encoding="utf-8"), name)
            except (OSError, UnicodeDecodeError, YamlError):
                continue
            if isinstance(data, dict) and isinstance(data.get("outs"), list):
                return data
        return None
