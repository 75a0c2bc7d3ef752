"""`metrics show` and `metrics diff`, and the comparison `params diff` shares with them.

Results have DVC's shape: `{rev: {"data": {path: {"data": value} | {"error": exc}}}}`
(or `{rev: {"error": exc}}` when a revision's pipelines cannot be loaded), so the
`--json` output is DVC's.
"""

from __future__ import annotations

import errno
import json
import os
import posixpath
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from mlvc import yamlio
from mlvc._core import ignored_by, walk
from mlvc.exceptions import DvcYamlError, MlvcError, ParamsFileError
from mlvc.objects import object_id
from mlvc.ops.diff import BadRevisionError, NoGitError, UnknownRevisionError, resolve_rev
from mlvc.pipeline.model import PROJECT_FILE
from mlvc.pipeline.params import parse_params
from mlvc.pipeline.revtree import Tree
from mlvc.repo import Repo
from mlvc.revs import WORKSPACE_ONLY, RevScope

WORKSPACE = "workspace"
DEFAULT_PRECISION = 5

RevResult = dict[str, Any]
Collector = Callable[[Tree], dict[str, Any]]


class MetricsFileError(MlvcError):
    """A metrics or params file that cannot be parsed."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        # DVC-compat: the error type named in `--json` output.
        self.kind = kind


def repo_target(repo: Repo, target: str) -> str:
    """A path given on the command line (relative to the cwd) made repository-relative."""
    return repo.relpath(Path(os.path.abspath(target)))


def shown_path(repo: Repo, rel: str) -> str:
    """A repository-relative path as DVC prints it: relative to the cwd."""
    return repo.shown(rel, Path.cwd())


def parse_file(data: bytes, rel: str) -> Any:
    """Parses a metrics/params file by its suffix (YAML unless `.json`, `.toml`, `.py`)."""
    suffix = posixpath.splitext(rel)[1].lower()
    kind = {".json": "JSON", ".toml": "TOML", ".py": "PythonFile"}.get(suffix, "YAML")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetricsFileError(f"`{rel}` is not valid UTF-8", f"{kind}FileCorruptedError") from exc
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".py":
            return parse_params(text, suffix, rel)
        # DVC-compat: ruamel refuses a mapping that repeats a key; `loads_marked` does too.
        return yamlio.loads_marked(text, rel)[0]
    except json.JSONDecodeError as exc:
        raise MetricsFileError(
            f"`{rel}:{exc.lineno}:{exc.colno}`: invalid JSON: {exc.msg}", "JSONFileCorruptedError"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise MetricsFileError(f"`{rel}`: invalid TOML: {exc}", "TOMLFileCorruptedError") from exc
    except MlvcError as exc:
        raise MetricsFileError(str(exc), f"{kind}FileCorruptedError") from exc


def extract_metrics(value: Any) -> Any:
    """DVC-compat: only numbers, strings and mappings of them are metrics (lists are dropped)."""
    if isinstance(value, int | float | str):
        return value
    if not isinstance(value, dict):
        return None
    out = {}
    for key, item in value.items():
        m = extract_metrics(item)
        if m not in (None, {}):
            out[key] = m
    return out


def _is_dvc_file(name: str) -> bool:
    """DVC-compat: the names DVC's file system hides from listings (`_is_dvc_file`)."""
    return name in (PROJECT_FILE, ".dvcignore") or name.endswith(".dvc")


class RevFiles:
    """A revision's files as DVC's reports see them (its `DVCFileSystem`): those of git
    (or the workspace) and the outputs that the revision's `dvc.lock` files record
    (git ignores them, so a commit has none), with the files of directory outputs
    from the cache."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._dir_files: dict[str, str] | None = None
        # Recorded directory outputs without a cache to list them from (no `.dvc/`).
        self._uncached_dirs: set[str] = set()
        # Recorded directory outputs whose `.dir` object the cache lacks.
        self._unlisted_dirs: set[str] = set()
        self._shadow: tempfile.TemporaryDirectory[str] | Literal[False] | None = None

    def _outputs(self) -> dict[str, str]:
        """Repository path -> object id of every file inside a recorded directory output."""
        if self._dir_files is not None:
            return self._dir_files
        self._dir_files = {}
        objects = self.tree.repo.objects if self.tree.repo.initialized else None
        for base, md5, item in self.tree.recorded_outs():
            if not md5.endswith(".dir"):
                continue
            if objects is None:
                # DVC-compat: without a cache, DVC sees a directory with no files.
                self._uncached_dirs.add(base)
                continue
            oid = object_id(md5, item.get("hash"))
            if not objects.contains(oid):
                self._unlisted_dirs.add(base)
                continue
            for rel, file_oid in objects.read_manifest(oid):
                self._dir_files[f"{base}/{rel}"] = file_oid
        return self._dir_files

    def _ignore_root(self) -> Path | None:
        """Where to ask `.dvcignore` about this revision's paths: the workspace, or for a
        commit a stand-in of it (its `.dvcignore` files and empty files in the places of
        the others); None when the commit's `.dvcignore` files hold no rule."""
        if self.tree.commit is None:
            return self.tree.repo.root
        if self._shadow is None:
            files = self.tree.find(".")
            rules = {}
            for rel in files:
                if posixpath.basename(rel) == ".dvcignore":
                    text = self.tree.read(rel)
                    if any(ln.strip() and not ln.startswith(b"#") for ln in text.splitlines()):
                        rules[rel] = text
            self._shadow = tempfile.TemporaryDirectory(prefix="mlvc-ignore-") if rules else False
            if self._shadow:
                base = Path(self._shadow.name)
                for rel in files:
                    (base / rel).parent.mkdir(parents=True, exist_ok=True)
                    (base / rel).write_bytes(rules.get(rel, b""))
        return Path(self._shadow.name) if self._shadow else None

    def _ignored(self, rel: str) -> bool:
        """Whether this revision's `.dvcignore` files hide the path `rel`."""
        root = self._ignore_root() if rel != "." else None
        return root is not None and ignored_by(root, root / rel) is not None

    def isdir(self, rel: str) -> bool:
        if self.tree.pipelines_error() is not None:
            # DVC-compat: without its index DVC cannot tell a directory: it reads it.
            return False
        prefix = "" if rel == "." else rel + "/"
        outputs = self._outputs()
        if rel in self._unlisted_dirs:
            # DVC-compat: a directory DVC cannot list is read as a file, and fails.
            return False
        if not (
            self.tree.isdir(rel)
            or rel in self._uncached_dirs
            or any(p.startswith(prefix) for p in outputs)
        ):
            return False
        # DVC-compat: a directory `.dvcignore` hides is no directory: read, it fails.
        # Asked last: for a commit, the answer needs a stand-in of its files.
        return not self._ignored(rel)

    def _listed(self, rel: str) -> list[str]:
        """The files of git (or of the workspace) under `rel` that `.dvcignore` keeps."""
        if not self.tree.isdir(rel):
            return []
        root = self._ignore_root()
        if root is None:
            return self.tree.find(rel)
        prefix = "" if rel == "." else rel + "/"
        # The walk skips `.git`, `.dvc` and what `.dvcignore` hides.
        walked = [prefix + f.relpath for f in walk(root / rel, ignore_root=root)]
        if self.tree.commit is not None:
            return walked
        return self.tree.repo.outside_subrepos(walked)

    def find(self, rel: str) -> list[str]:
        """Every file under the directory `rel`, sorted (DVC's `DVCFileSystem.find`)."""
        prefix = "" if rel == "." else rel + "/"
        found = set(self._listed(rel))
        found.update(p for p in self._outputs() if p.startswith(prefix))
        # DVC-compat: a file output `dvc.lock` records is listed even where git and the
        # workspace lack it (read, it comes from the cache or fails).
        found.update(p for p in self.tree.cached_outs() if p.startswith(prefix))
        # DVC-compat: a listing leaves out `dvc.yaml`, `.dvcignore` and `*.dvc` files
        # and directories (`.dvc/` among them).
        return sorted(
            p for p in found if not any(_is_dvc_file(part) for part in p[len(prefix) :].split("/"))
        )

    def read(self, rel: str) -> bytes:
        """The file's bytes; FileNotFoundError when neither git nor the cache has them."""
        broken = self.tree.pipelines_error()
        if broken is not None:
            return self._read_without_index(rel, broken)
        oid = self._outputs().get(rel)
        if rel in self._unlisted_dirs:
            # DVC-compat: DVC opens a directory output it cannot list as a file; in the
            # workspace it names the directory there.
            path = self.tree.repo.root / rel
            shown = str(path) if self.tree.commit is None and path.is_dir() else rel
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), shown)
        try:
            return self.tree.read_output(rel)
        except FileNotFoundError:
            unlisted = next((d for d in self._unlisted_dirs if rel.startswith(d + "/")), None)
            if unlisted is not None:
                raise MetricsFileError(
                    f"failed to load directory {tuple(unlisted.split('/'))}", "DataIndexDirError"
                ) from None
            # (`_outputs` lists nothing when there is no cache.)
            if oid is None or not self.tree.repo.objects.contains(oid):
                raise
            return Path(self.tree.repo.objects.object_path(oid)).read_bytes()

    def _read_without_index(self, rel: str, broken: MlvcError) -> bytes:
        """DVC-compat: a revision whose `dvc.yaml` does not load. A directory read as a
        file fails (named as the workspace's, or as a commit's rooted path), and a path
        git or the workspace lacks fails with the load error."""
        if self.tree.isdir(rel):
            if self.tree.commit is None:
                shown = str(self.tree.repo.root if rel == "." else self.tree.repo.root / rel)
            else:
                shown = "/" if rel == "." else "/" + rel
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), shown)
        try:
            return self.tree.read(rel)
        except FileNotFoundError:
            kind = _corrupted_file_kind(broken) or type(broken).__name__
            raise MetricsFileError(str(broken), kind) from broken


def expand(files: RevFiles, paths: Iterable[str]) -> dict[str, str]:
    """`{name: path to read}`: directories replaced by the files under them; duplicates
    dropped, order kept.

    DVC-compat: a path that climbs above the root (`../m.json`, `../d`) reads the file
    (or directory) at the root, and keeps its own name (`../d/x.json`).
    """
    out: dict[str, str] = {}
    for p in paths:
        inside = posixpath.normpath("/" + p).lstrip("/") or "."
        if files.isdir(inside):
            prefix = "" if inside == "." else inside + "/"
            for f in files.find(inside):
                name = f if p == inside else posixpath.join(p, f[len(prefix) :])
                out.setdefault(name, f)
        else:
            out.setdefault(p, inside)
    return out


def collect_metrics(tree: Tree, targets: list[str]) -> dict[str, Any]:
    """`{path: {"data": ...} | {"error": exc}}` for the metrics files of one revision."""
    if targets:
        paths = list(targets)
    else:
        paths = []
        pipelines = tree.pipelines()
        for stage in pipelines.stages:
            paths += [stage.repo_path(o.path) for o in stage.outs if o.is_metric]
        for file in pipelines.files:
            base = posixpath.dirname(file.path)
            paths += [posixpath.normpath(posixpath.join(base, m)) for m in file.metrics]
    files = RevFiles(tree)
    result: dict[str, Any] = {}
    for path, inside in expand(files, paths).items():
        try:
            value = extract_metrics(parse_file(files.read(inside), inside))
            result[path] = {"data": value or {}}
        except (OSError, MetricsFileError) as exc:
            result[path] = {"error": exc}
    return result


def gather(
    repo: Repo, revs: list[tuple[str, str | None]], collect: Collector
) -> dict[str, RevResult]:
    """Runs `collect` on the tree of each `(name, commit)` (commit None: the workspace)."""
    out: dict[str, RevResult] = {}
    for name, commit in revs:
        try:
            out[name] = {"data": collect(Tree(repo, commit))}
        except MlvcError as exc:
            out[name] = {"error": exc}
    return out


def selected_revisions(repo: Repo, scope: RevScope) -> list[tuple[str, str | None]]:
    """DVC's brancher: `("", None)` alone, or the workspace plus the selected commits.

    DVC-compat: a commit is named by its branch/tag names joined with `,` (`-A`: its id).
    """
    if not scope.has_commits:
        return [("", None)]
    revs: list[tuple[str, str | None]] = [(WORKSPACE, None)]
    revs += [(",".join(names), sha) for sha, names in scope.named_commits(repo).items()]
    return revs


def hide_workspace(repo: Repo, results: dict[str, RevResult]) -> None:
    """DVC-compat: the workspace is not shown when it equals the current branch."""
    scm = repo.scm
    branch = scm.head_branch() if scm is not None else None
    if branch is not None:
        branch = branch.removeprefix("refs/heads/")
        if branch in results and results.get(WORKSPACE) == results[branch]:
            results.pop(WORKSPACE, None)


def show(
    repo: Repo,
    targets: list[str],
    *,
    scope: RevScope = WORKSPACE_ONLY,
) -> dict[str, RevResult]:
    """Metrics of the workspace (or of the selected revisions), keyed by revision name."""
    revs = selected_revisions(repo, scope)
    rel = [repo_target(repo, t) for t in targets]
    results = gather(repo, revs, lambda tree: collect_metrics(tree, rel))
    hide_workspace(repo, results)
    return results


def compared_revisions(repo: Repo, a_rev: str, b_rev: str) -> list[tuple[str, str | None]] | None:
    """`(name, commit)` of both sides of a diff; None when the repository has no commits."""
    scm = repo.scm
    if scm is None and not repo.initialized:
        # DVC-compat: outside git, DVC fails with 255 as well.
        raise NoGitError(
            "comparing revisions", exit_code=255, hint="run `git init` first", no_scm=False
        )
    if scm is None:
        # DVC-compat: DVC fails there with 255.
        raise NoGitError(
            "comparing revisions",
            exit_code=255,
            hint="run `git init`, then `mlvc config core.no_scm false`",
        )
    if scm.head_commit() is None:
        return None
    out: list[tuple[str, str | None]] = []
    for rev in (a_rev, b_rev):
        try:
            out.append((rev, None if rev == WORKSPACE else resolve_rev(repo, rev)))
        except UnknownRevisionError as exc:
            raise BadRevisionError(rev) from exc
    return out


# Diffs (DVC's dvc/utils/diff.py) -----------------------------------------------------


def format_dict(d: dict[Any, Any]) -> dict[Any, Any]:
    """DVC-compat: lists are compared and shown as their Python text."""
    out: dict[Any, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out[key] = format_dict(value)
        elif isinstance(value, list):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def flatten(d: dict[Any, Any], parent: Any = None) -> dict[Any, Any]:
    """Nested mappings as one level with dotted keys (empty mappings disappear).

    DVC-compat: flatten_dict's `dot` reducer: a top-level key keeps its type (a YAML
    `null` or `1` key is no string, and JSON shows `null` as `"null"`), and a key
    under a `null` key is not prefixed.
    """
    out: dict[Any, Any] = {}
    for key, value in d.items():
        name = key if parent is None else f"{parent}.{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float)


def _diff_vals(old: Any, new: Any, with_unchanged: bool) -> dict[str, Any]:
    if isinstance(new, list) and isinstance(old, list) and len(old) == len(new) == 1:
        return _diff_vals(old[0], new[0], with_unchanged)
    if not with_unchanged and old == new:
        return {}
    res = {"old": old, "new": new}
    if _is_number(new) and _is_number(old):
        res["diff"] = new - old
    return res


def _flat_or(d: Any) -> Callable[[str], Any]:
    if not d:
        return lambda _k: None
    if isinstance(d, dict):
        flat = flatten(d)
        return lambda k: flat.get(k)
    return lambda _k: "unable to parse"


def _parse_raw(raw: Any) -> Any:
    """DVC-compat: a file's data that `format_dict` made text (a top-level list) is
    read back as JSON; other text stays as it is."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _diff_file(old: Any, new: Any, with_unchanged: bool) -> dict[str, Any]:
    old, new = _parse_raw(old), _parse_raw(new)
    if isinstance(new, dict) or isinstance(old, dict):
        keys = dict.fromkeys(
            [
                *(flatten(old) if isinstance(old, dict) else {}),
                *(flatten(new) if isinstance(new, dict) else {}),
            ]
        )
        get_old, get_new = _flat_or(old), _flat_or(new)
        out = {}
        for key in keys:
            d = _diff_vals(get_old(key), get_new(key), with_unchanged)
            if d:
                out[key] = d
        return out
    d = _diff_vals(old, new, with_unchanged)
    return {"": d} if d else {}


def diff_results(
    results: dict[str, RevResult], a_rev: str, b_rev: str, *, with_unchanged: bool
) -> dict[str, dict[str, Any]]:
    """`{path: {key: {"old", "new"[, "diff"]}}}` between two revisions' results."""
    old_data = format_dict(results.get(a_rev, {}).get("data", {}))
    new_data = format_dict(results.get(b_rev, {}).get("data", {}))
    out: dict[str, dict[str, Any]] = {}
    for path in dict.fromkeys([*old_data, *new_data]):
        d = _diff_file(
            old_data.get(path, {}).get("data", {}),
            new_data.get(path, {}).get("data", {}),
            with_unchanged,
        )
        if d:
            out[path] = d
    return out


def diff(
    repo: Repo, a_rev: str, b_rev: str, targets: list[str], *, with_unchanged: bool = False
) -> tuple[dict[str, dict[str, Any]], dict[str, RevResult]]:
    """Changed metrics between two revisions, and the results they came from."""
    revs = compared_revisions(repo, a_rev, b_rev)
    if revs is None:
        return {}, {}
    rel = [repo_target(repo, t) for t in targets]
    results = gather(repo, revs, lambda tree: collect_metrics(tree, rel))
    return diff_results(results, a_rev, b_rev, with_unchanged=with_unchanged), results


# Output -------------------------------------------------------------------------------


def errors(results: dict[str, RevResult]) -> list[tuple[str, str | None, BaseException]]:
    """`(revision, path or None, error)` for everything that failed to load."""
    found: list[tuple[str, str | None, BaseException]] = []
    for rev, res in results.items():
        if "error" in res:
            found.append((rev, None, res["error"]))
        for path, file in res.get("data", {}).items():
            if "error" in file:
                found.append((rev, path, file["error"]))
    return found


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from, outermost first."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 20:
        chain.append(chain[-1].__cause__)
    return chain


def _corrupted_file_kind(exc: BaseException) -> str | None:
    """DVC-compat: DVC names the file format when a revision's pipelines fail to load
    because a `vars`/params file, or `dvc.yaml` itself, does not parse."""
    chain = _causes(exc)
    if any(isinstance(e, ParamsFileError) for e in chain):
        for e in chain:
            if isinstance(e, yamlio.YamlError):
                return "YAMLFileCorruptedError"
            if isinstance(e, json.JSONDecodeError):
                return "JSONFileCorruptedError"
            if isinstance(e, tomllib.TOMLDecodeError):
                return "TOMLFileCorruptedError"
            if isinstance(e, SyntaxError):
                return "PythonFileCorruptedError"
        return None
    if isinstance(exc, DvcYamlError) and any(isinstance(e, yamlio.YamlError) for e in chain):
        return "YAMLSyntaxError"
    return None


def error_json(exc: BaseException) -> dict[str, str]:
    """DVC-compat: errors in `--json` output are `{"type", "msg"}`."""
    kind = getattr(exc, "kind", None) or _corrupted_file_kind(exc) or type(exc).__name__
    return {"type": kind, "msg": str(exc)}


def to_json(value: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, BaseException):
            return error_json(o)
        if isinstance(o, tuple | set):
            return list(o)
        raise TypeError(type(o).__name__)

    return json.dumps(value, default=default)


def format_field(value: Any, precision: int | None = None, round_digits: bool = False) -> str:
    """DVC-compat: a cell's text; floats rounded to `precision` digits."""

    def fmt(v: Any) -> Any:
        if isinstance(v, float) and precision:
            return round(v, precision) if round_digits else f"{v:.{precision}g}"
        if isinstance(v, dict):
            return {k: fmt(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fmt(x) for x in v]
        return v

    return str(fmt(value))


def metrics_rows(
    results: dict[str, RevResult],
    precision: int,
    *,
    with_revision: bool,
    shown: Callable[[str], str],
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of `metrics show`: one row per revision and file, one column per key."""
    rows: list[dict[str, str]] = []
    columns: dict[str, None] = {}
    for rev, res in results.items():
        for path, file in res.get("data", {}).items():
            value = file.get("data", {})
            flat = flatten(format_dict(value)) if isinstance(value, dict) else {"": value}
            cells = {k: format_field(v, precision, True) for k, v in flat.items()}
            columns.update(dict.fromkeys(cells))
            rows.append({"\0rev": rev, "\0path": shown(path), **cells})
    # DVC crashes sorting keys of different types (a YAML `1` key beside `a`).
    keys = sorted(columns, key=str)
    headers = (["Revision"] if with_revision else []) + ["Path", *keys]
    fields = (["\0rev"] if with_revision else []) + ["\0path", *keys]
    return headers, [[r.get(f, "-") for f in fields] for r in rows]


def diff_rows(
    diff_data: dict[str, dict[str, Any]],
    *,
    precision: int | None,
    with_change: bool,
    no_path: bool,
    shown: Callable[[str], str],
) -> list[list[str]]:
    """Rows of a `metrics diff`/`params diff` table: path, key, old, new[, change]."""
    rows = []
    for path, changes in diff_data.items():
        for key in sorted(changes, key=str):
            change = changes[key]
            cells = [
                shown(path),
                str(key),
                *(
                    "-" if change.get(f) is None else format_field(change.get(f), precision, True)
                    for f in ("old", "new", "diff")
                ),
            ]
            if not with_change:
                cells.pop()
            if no_path:
                cells.pop(0)
            rows.append(cells)
    return rows
