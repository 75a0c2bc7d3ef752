"""The repository's files at one revision: the workspace, or a commit read from git objects.

`params diff` and `metrics show/diff` read `dvc.yaml`, params and metrics files
at several revisions without checking anything out.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any, Literal

from mlvc.exceptions import MlvcError, ParamsFileError
from mlvc.pipeline.load import FileReader, load_pipelines, loads_pipeline, parsing_config
from mlvc.pipeline.lockfile import LockFile, lock_path_for
from mlvc.pipeline.model import PROJECT_FILE, Pipelines
from mlvc.pipeline.params import parse_params
from mlvc.pipeline.templating import TemplateError
from mlvc.repo import DVC_DIR, Repo, outside_subrepos, subrepo_roots


class Tree:
    """Files of the workspace (`commit` None) or of a commit, by repository-relative path."""

    def __init__(self, repo: Repo, commit: str | None) -> None:
        self.repo = repo
        self.commit = commit
        self._files: dict[str, str] | None = None  # repo path -> git path
        self._dirs: set[str] = set()
        self._pipelines: Pipelines | None = None
        self._pipelines_track_vars = False
        self._cached_outs: dict[str, str] | None = None
        self._recorded_outs: list[tuple[str, str, dict[str, Any]]] | None = None
        self._pipelines_error: MlvcError | Literal[False] | None = False
        if commit is not None:
            scm = repo.scm
            assert scm is not None
            git_root = Path(scm.workdir or repo.root)
            sub = Path(repo.root).relative_to(git_root).as_posix()
            sub = "" if sub == "." else sub
            self._files = {}
            for path, _mode, _blob in scm.list_files(commit, sub):
                rel = path[len(sub) + 1 :] if sub else path
                self._files[rel] = path
                parent = posixpath.dirname(rel)
                while parent and parent not in self._dirs:
                    self._dirs.add(parent)
                    parent = posixpath.dirname(parent)

    def exists(self, rel: str) -> bool:
        if self._files is None:
            return (self.repo.root / rel).exists()
        return rel in self._files or rel in self._dirs or rel == "."

    def isdir(self, rel: str) -> bool:
        if self._files is None:
            return (self.repo.root / rel).is_dir()
        return rel in self._dirs or rel == "."

    def find(self, rel: str) -> list[str]:
        """Every file under the directory `rel`, sorted."""
        if self._files is None:
            found = []
            for dirpath, dirnames, filenames in os.walk(self.repo.root / rel):
                dirnames[:] = [d for d in dirnames if d != DVC_DIR]
                for name in filenames:
                    found.append(self.repo.relpath(Path(dirpath) / name))
            return sorted(found)
        prefix = "" if rel == "." else rel + "/"
        return sorted(p for p in self._files if p.startswith(prefix))

    def read(self, rel: str) -> bytes:
        """The file's bytes; FileNotFoundError when this revision has no such file."""
        if self._files is None:
            try:
                return (self.repo.root / rel).read_bytes()
            except FileNotFoundError as exc:
                raise FileNotFoundError(exc.errno, exc.strerror, rel) from None
        git_path = self._files.get(rel)
        data = None
        if git_path is not None:
            scm = self.repo.scm
            assert scm is not None and self.commit is not None
            data = scm.read_file(self.commit, git_path)
        if data is None:
            raise FileNotFoundError(2, "No such file or directory", rel)
        return data

    def read_output(self, rel: str) -> bytes:
        """Like `read`, falling back to the cache for an output that `dvc.lock` records."""
        try:
            return self.read(rel)
        except FileNotFoundError:
            md5 = self.cached_outs().get(rel)
            if md5 is None:
                raise
            # A repository without `.dvc/` has no cache to look in.
            if not self.repo.initialized or not self.repo.cache.contains(md5):
                # DVC-compat: DVC's message for an output it has no copy of.
                raise FileNotFoundError(2, "No storage files available", rel) from None
            return Path(self.repo.cache.object_path(md5)).read_bytes()

    def recorded_outs(self) -> list[tuple[str, str, dict[str, Any]]]:
        """`(repository path, md5, lock entry)` of every output this revision's lock
        files record, files and directories, in the order they are recorded."""
        if self._recorded_outs is None:
            self._recorded_outs = []
            if self.pipelines_error() is not None:  # a broken dvc.yaml: no outputs
                return self._recorded_outs
            for file in self.pipelines().files:
                lock_rel = lock_path_for(file.path)
                try:
                    text = self.read(lock_rel).decode("utf-8")
                    lock = LockFile.loads(text, lock_rel)
                except (FileNotFoundError, UnicodeDecodeError, MlvcError):
                    continue
                for name, stage in file.stages.items():
                    # DVC-compat: a lock entry the stage no longer declares is no output.
                    declared = {stage.repo_path(o.path) for o in stage.outs}
                    for item in (lock.get(name) or {}).get("outs") or []:
                        md5 = item.get("md5") if isinstance(item, dict) else None
                        if not isinstance(md5, str):
                            continue
                        path = stage.repo_path(str(item.get("path")))
                        if path in declared:
                            self._recorded_outs.append((path, md5, item))
        return self._recorded_outs

    def pipelines_error(self) -> MlvcError | None:
        """What loading this revision's `dvc.yaml` files raises, if they do not load."""
        if self._pipelines_error is False:
            try:
                self.pipelines()
                self._pipelines_error = None
            except MlvcError as exc:
                self._pipelines_error = exc
        return self._pipelines_error

    def cached_outs(self) -> dict[str, str]:
        """Repository path -> md5 of every file output recorded in this revision's lock files."""
        if self._cached_outs is None:
            self._cached_outs = {
                path: md5 for path, md5, _ in self.recorded_outs() if not md5.endswith(".dir")
            }
        return self._cached_outs

    def pipeline_files(self) -> list[str]:
        if self._files is None:
            return [self.repo.relpath(p) for p in self.repo.pipeline_files()]
        inner = subrepo_roots(self._files)
        return sorted(
            p
            for p in outside_subrepos(self._files, inner.__contains__)
            if posixpath.basename(p) == PROJECT_FILE and not p.startswith(DVC_DIR + "/")
        )

    def pipelines(self, *, defer_errors: bool = False, track_vars: bool = False) -> Pipelines:
        """Every `dvc.yaml` of this revision, resolved with this revision's params files.

        With `defer_errors`, stages that do not resolve are left out and kept in their
        file's `broken`; without, the first of them is raised, as a whole load would.
        With `track_vars`, stages record the values `${...}` took from files.
        """
        if self._pipelines is None or (track_vars and not self._pipelines_track_vars):
            if self._files is None:
                self._pipelines = load_pipelines(
                    self.repo, defer_errors=True, track_vars=track_vars
                )
            else:
                config = parsing_config(self.repo)
                reader = _TreeReader(self)
                files = []
                for rel in self.pipeline_files():
                    text = self.read(rel).decode("utf-8")
                    files.append(
                        loads_pipeline(
                            text,
                            self.repo.root,
                            rel,
                            config=config,
                            reader=reader,
                            defer_errors=True,
                            track_vars=track_vars,
                        )
                    )
                self._pipelines = Pipelines(root=self.repo.root, files=files)
            # Set once loaded: a load that fails must not mark older pipelines as tracked.
            self._pipelines_track_vars = track_vars
        if not defer_errors:
            for file in self._pipelines.files:
                for error in file.broken.values():
                    raise error
        return self._pipelines


class _TreeReader(FileReader):
    """Reads `vars` and params files for templating from a revision's tree."""

    def __init__(self, tree: Tree) -> None:
        super().__init__(tree.repo.root)
        self.tree = tree

    def exists(self, relpath: str) -> bool:
        return self.tree.exists(relpath)

    def __call__(self, relpath: str) -> Any:
        if relpath not in self._data:
            if self.tree.isdir(relpath):
                raise TemplateError(f"`{relpath}` is a directory", "`vars` takes files")
            try:
                data = self.tree.read(relpath)
            except FileNotFoundError as exc:
                raise TemplateError(f"`{relpath}` does not exist") from exc
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ParamsFileError(f"`{relpath}` is not valid UTF-8") from exc
            self._data[relpath] = parse_params(text, posixpath.splitext(relpath)[1], relpath)
        return self._data[relpath]
