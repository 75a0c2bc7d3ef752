"""`config`, `remote ...` and `cache dir`: editing DVC's config files the way DVC does.

DVC-compat: the files written are byte-identical to DVC's for the same commands
(configobj layout from `mlvc.config.ConfigFile`, relative paths stored relative
to the config file's directory, remote names lower-cased).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlvc.config import (
    KNOWN_KEYS,
    LEVELS,
    PATH_KEYS,
    ConfigError,
    ConfigFile,
    is_local_path,
    level_paths,
    section_kind,
)

# DVC-compat: the CLI flag `--project` names the level DVC calls `repo`.
LEVEL_FLAGS = {"system": "system", "global": "global", "project": "repo", "local": "local"}
CACHE_TYPES = ("reflink", "hardlink", "symlink", "copy")
_BOOL_KEYS = {
    ("core", "autostage"),
    ("core", "no_scm"),
    ("core", "check_update"),
    ("core", "analytics"),
    ("core", "interactive"),
    ("core", "hardlink_lock"),
    ("core", "experiments"),
    ("feature", "machine"),
    ("cache", "protected"),
    ("cache", "slow_link_warning"),
    ("cache", "verify"),
    ("remote", "worktree"),
    ("remote", "version_aware"),
    ("remote", "verify"),
    ("remote", "no_traverse"),
    ("remote", "listobjects"),
    ("remote", "use_ssl"),
    ("remote", "ask_password"),
    ("remote", "allow_anonymous_login"),
    ("exp", "auto_push"),
    ("plots", "auto_open"),
    ("hydra", "enabled"),
    ("studio", "offline"),
}
_INT_KEYS = {
    ("core", "checksum_jobs"),
    ("remote", "jobs"),
    ("remote", "checksum_jobs"),
    ("remote", "port"),
    ("state", "row_limit"),
    ("state", "row_cleanup_quota"),
}
_POSITIVE_INT_KEYS = {"jobs", "checksum_jobs"}
# DVC-compat: the bounds and choices of DVC's schema (choices compared lower-cased).
_RANGES = {("state", "row_limit"): (1, 2**63), ("state", "row_cleanup_quota"): (0, 100)}
_CHOICES = {
    ("parsing", "bool"): ("store_true", "boolean_optional"),
    ("parsing", "list"): ("nargs", "append"),
}
_NAMED = ("remote", "db", "machine")


class ConfigUsageError(ConfigError):
    """Options of `config` that do not go together."""

    exit_code = 1  # DVC-compat: refused before the config is read, with 1
    hint = "see `mlvc config --help`"


class ConfigNameError(ConfigError):
    """A `config` name that is not `section.option` (DVC: a usage error, exit 254)."""

    exit_code = 254


class RemoteConfigError(ConfigError):
    """A `remote` subcommand that cannot be applied to the config."""

    hint = "list the configured remotes with `mlvc remote list`"


@dataclass
class Editor:
    """Reads and writes the config levels of one repository (or only the user levels)."""

    dvc_dir: Path | None
    cwd: Path

    @classmethod
    def open(cls, dvc_dir: Path | None, cwd: Path | None = None) -> Editor:
        """An editor for `dvc_dir` (None outside a repository)."""
        return cls(dvc_dir, (cwd or Path.cwd()).absolute())

    def path(self, level: str) -> Path:
        """The file of a level; the repo levels need a repository."""
        p = level_paths(self.dvc_dir).get(level)
        if p is None:
            raise ConfigError(
                f"`{level}` config needs a repository: run inside one, or use `--global`"
            )
        return p

    def load(self, level: str) -> ConfigFile:
        """Loads one level's file (empty when it does not exist)."""
        return ConfigFile.load(self.path(level))

    def levels(self) -> Iterator[tuple[str, ConfigFile]]:
        """Every readable level, lowest priority first."""
        for level in LEVELS:
            p = level_paths(self.dvc_dir).get(level)
            if p is not None:
                yield level, ConfigFile.load(p)

    def below(self, level: str | None) -> Iterator[tuple[str, ConfigFile]]:
        """The readable levels of lower priority than `level` (None: every level)."""
        for lvl, cf in self.levels():
            if lvl == level:
                return
            yield lvl, cf

    def merged_to(
        self, level: str | None, cf: ConfigFile | None = None
    ) -> dict[str, dict[str, str]]:
        """DVC-compat: what DVC checks when writing `level`: the levels below it, then `cf`."""
        merged: dict[str, dict[str, str]] = {}
        files = [c for _lvl, c in self.below(level)] + ([cf] if cf is not None else [])
        for other in files:
            for name, values in other.sections.items():
                merged.setdefault(name, {}).update(values)
        return merged

    def merged(self) -> dict[str, dict[str, tuple[str, Path]]]:
        """All sections merged; each value with the file it came from."""
        merged: dict[str, dict[str, tuple[str, Path]]] = {}
        for _level, cf in self.levels():
            for name, values in cf.sections.items():
                sect = merged.setdefault(name, {})
                for k, v in values.items():
                    sect[k] = (v, cf.path)
        return merged

    def store_path(self, value: str, cf: ConfigFile) -> str:
        """DVC-compat: a relative local path typed at `cwd` is stored relative to the file."""
        if not is_local_path(value) or os.path.isabs(value) or value.startswith("~"):
            return value
        absolute = os.path.normpath(os.path.join(self.cwd, value))
        return Path(os.path.relpath(absolute, cf.path.parent)).as_posix()


def show_path(value: str, origin: Path) -> str:
    """A stored relative local path as an absolute one (how DVC prints paths back)."""
    if not is_local_path(value) or os.path.isabs(value):
        return value
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return expanded  # DVC-compat: `~/x` is shown expanded
    return os.path.normpath(os.path.join(origin.parent, value))


# DVC-compat: `dvc config`'s NAME_REGEX; names are lower-cased, a named section can only
# be `remote` or `db`, and no part holds a dot.
_NAME = re.compile(r"^(?:(?P<top>remote|db)\.)?(?P<section>[^.]*)\.(?P<option>[^.]*)$")


def parse_name(name: str) -> tuple[str, str]:
    """`core.remote` -> (`core`, `remote`); `remote.store.url` -> (`remote "store"`, `url`)."""
    m = _NAME.match(name)
    if m is None:
        raise ConfigNameError(
            f"`{name}` is not a config option name; use `section.option`, "
            "`remote.NAME.option` or `db.NAME.option`"
        )
    section, option = m.group("section").lower(), m.group("option").lower()
    if m.group("top"):
        return f'{m.group("top")} "{section}"', option
    return section, option


# DVC-compat: the url schemes DVC's config schema knows (a url without a host is a path).
_REMOTE_SCHEMES = {
    "s3", "gs", "ssh", "hdfs", "webhdfs", "azure", "oss", "gdrive",
    "http", "https", "webdav", "webdavs", "remote",
}  # fmt: skip


def _check_remote_url(url: str, origin: Path) -> None:
    parsed = urllib.parse.urlparse(url)
    if parsed.netloc and parsed.scheme not in _REMOTE_SCHEMES:
        raise ConfigError(
            f"`{origin}`: unsupported remote url type `{parsed.scheme}://` in `{url}`; "
            f"use a path or one of {', '.join(f'{s}://' for s in sorted(_REMOTE_SCHEMES))}"
        )


def check_value(section: str, key: str, value: str, origin: Path) -> None:
    """Rejects unknown sections or keys and values DVC's schema refuses."""
    kind, sub = section_kind(section)
    if kind not in KNOWN_KEYS:
        raise ConfigError(f"`{origin}`: unknown config section `{kind}`")
    if kind in _NAMED and sub is None:
        # DVC crashes on these (a value where it wants a table).
        raise ConfigError(f"`{origin}`: `{kind}.{key}` names no option; use `{kind}.NAME.option`")
    known = KNOWN_KEYS[kind]
    if known and key not in known:
        raise ConfigError(f"`{origin}`: unknown option `{key}` in section `{kind}`")
    # DVC-compat: DVC's schema takes only `true` and `false` (any case); it refuses to
    # load a config holding `1` or `yes`, so mlvc must not write one.
    if (kind, key) in _BOOL_KEYS and value.strip().lower() not in ("true", "false"):
        raise ConfigError(f"`{origin}`: `{kind}.{key}` expects true or false, got `{value}`")
    if (kind, key) in _INT_KEYS:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(
                f"`{origin}`: `{kind}.{key}` expects an integer, got `{value}`"
            ) from None
        if key in _POSITIVE_INT_KEYS and number < 1:
            raise ConfigError(f"`{origin}`: `{kind}.{key}` must be at least 1, got `{value}`")
    if (kind, key) == ("remote", "url"):
        _check_remote_url(value, origin)
    if (kind, key) == ("cache", "type"):
        bad = [t for t in (s.strip() for s in value.split(",")) if t not in CACHE_TYPES]
        if bad:
            raise ConfigError(
                f"`{origin}`: unsupported cache type(s) `{','.join(bad)}`; "
                f"use a comma list of {', '.join(CACHE_TYPES)}"
            )
    if (kind, key) == ("cache", "shared") and value.lower() != "group":
        raise ConfigError(f"`{origin}`: `cache.shared` only accepts `group`, got `{value}`")
    if (kind, key) in _RANGES:
        low, high = _RANGES[kind, key]
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise ConfigError(
                f"`{origin}`: `{kind}.{key}` expects an integer from {low} to {high}, got `{value}`"
            )
    if (kind, key) in _CHOICES and value.lower() not in _CHOICES[kind, key]:
        raise ConfigError(
            f"`{origin}`: `{kind}.{key}` expects one of "
            f"{', '.join(_CHOICES[kind, key])}, got `{value}`"
        )


def _check_sections(merged: dict[str, dict[str, str]], path: Path, after: bool) -> None:
    """What DVC's schema refuses across levels: a remote without a url, both hydra
    sources. `after`: found once the file is written (DVC writes first, then fails)."""
    where = f"`{path}` was written, but now " if after else f"`{path}`: "
    for section, values in merged.items():
        kind, sub = section_kind(section)
        if kind == "remote" and sub is not None and "url" not in values:
            raise RemoteConfigError(
                f"{where}remote `{sub}` has no `url`; "
                f"remove it with `mlvc remote remove {sub}` instead"
            )
    if {"config_dir", "config_module"} <= merged.get("hydra", {}).keys():
        raise ConfigError(
            f"{where}`hydra.config_dir` and `hydra.config_module` are both set; unset one"
        )


def save(cf: ConfigFile, ed: Editor | None = None, level: str | None = None) -> None:
    """Writes `cf` with DVC's section order (checked as DVC does, given its level).

    DVC-compat: DVC reads named sections (`remote`, `machine`, `db`) into their own
    maps and writes them back after the plain sections, so they always come last.
    It checks the levels below `level` merged with the new file before writing it,
    and every level after.
    """
    if ed is not None and level is not None:
        _check_sections(ed.merged_to(level, cf), cf.path, after=False)
    plain = {n: v for n, v in cf.sections.items() if section_kind(n)[1] is None}
    named = {
        n: v
        for kind in ("remote", "machine", "db")
        for n, v in cf.sections.items()
        if section_kind(n)[0] == kind and section_kind(n)[1] is not None
    }
    rest = {n: v for n, v in cf.sections.items() if n not in plain and n not in named}
    cf.sections = {**plain, **named, **rest}
    cf.save()
    if ed is not None and level is not None:
        _check_sections(ed.merged_to(None), cf.path, after=True)


# --- config -----------------------------------------------------------------------------------


def get(ed: Editor, name: str, level: str | None = None) -> str | None:
    """The value of `name`; None when unset (DVC prints nothing and succeeds).

    With a level, an unset option is an error, as in DVC.
    """
    found = get_with_origin(ed, name, level)
    return None if found is None else found[0]


def get_with_origin(ed: Editor, name: str, level: str | None = None) -> tuple[str, Path] | None:
    """[`get`], with the file the value comes from."""
    section, key = parse_name(name)
    kind, _ = section_kind(section)
    if level is None:
        hit = ed.merged().get(section, {}).get(key)
        if hit is None:
            return None
        value, origin = hit
    else:
        cf = ed.load(level)
        raw = cf.sections.get(section, {}).get(key)
        if raw is None:
            raise ConfigError(f"`{cf.path}`: option `{name}` is not set in this file")
        value, origin = raw, cf.path
    return (show_path(value, origin) if (kind, key) in PATH_KEYS else value), origin


def origin_prefix(ed: Editor, origin: Path) -> str:
    """DVC-compat `--show-origin`: a repository's files relative to its root, others absolute."""
    if ed.dvc_dir is not None and origin.parent == ed.dvc_dir:
        return Path(os.path.relpath(origin, ed.dvc_dir.parent)).as_posix() + "\t"
    return f"{origin}\t"


def set_value(ed: Editor, name: str, value: str, level: str = "repo") -> Path:
    """Sets `name` in a level's file; returns the file written."""
    section, key = parse_name(name)
    cf = ed.load(level)
    check_value(section, key, value, cf.path)
    kind, sub = section_kind(section)
    # DVC-compat: the url must come from this level or one below it.
    if (
        kind == "remote"
        and sub is not None
        and key != "url"
        and "url" not in ed.merged_to(level, cf).get(section, {})
    ):
        raise RemoteConfigError(
            f"`{cf.path}`: remote `{sub}` doesn't exist at this level or below; "
            "add it with `mlvc remote add`"
        )
    if (kind, key) in PATH_KEYS:
        value = ed.store_path(value, cf)
    cf.sections.setdefault(section, {})[key] = value
    save(cf, ed, level)
    return cf.path


def unset(ed: Editor, name: str, level: str = "repo") -> Path:
    """Removes `name` from a level's file; an option that is not there is an error."""
    section, key = parse_name(name)
    cf = ed.load(level)
    values = cf.sections.get(section, {})
    if key not in values:
        raise ConfigError(f"`{cf.path}`: option `{name}` is not set in this file, nothing to unset")
    del values[key]
    if not values and section_kind(section)[1] is None:
        del cf.sections[section]
    save(cf, ed, level)
    return cf.path


def _flatten(cf: ConfigFile) -> list[str]:
    # DVC-compat: named sections (remote, machine, db) are listed before the plain ones.
    named: list[str] = []
    plain: list[str] = []
    for section, values in cf.sections.items():
        kind, sub = section_kind(section)
        prefix = f"{kind}.{sub}" if sub is not None else kind
        for key, value in values.items():
            shown = show_path(value, cf.path) if (kind, key) in PATH_KEYS else value
            (named if sub is not None else plain).append(f"{prefix}.{key}={shown}")
    return named + plain


def list_lines(ed: Editor, level: str | None = None, *, show_origin: bool = False) -> list[str]:
    """`config -l`: `section.key=value` lines of one level, or of every level in order."""
    files = [ed.load(level)] if level is not None else [cf for _lvl, cf in ed.levels()]
    return [
        (origin_prefix(ed, cf.path) if show_origin else "") + line
        for cf in files
        for line in _flatten(cf)
    ]


# --- remotes ----------------------------------------------------------------------------------


def _remote_section(name: str) -> str:
    return f'remote "{name}"'


def _remote_exists(ed: Editor, name: str) -> bool:
    return any(_remote_section(name) in cf.sections for _lvl, cf in ed.levels())


def _shadowing(ed: Editor, level: str) -> list[tuple[str, ConfigFile]]:
    """DVC-compat: the levels `remote remove`/`rename` rewrite after `level`'s own file:
    every level above it, from `local` down (each file is rewritten, even unchanged)."""
    order = list(reversed(LEVELS))
    above = order[: order.index(level)]
    return [(lvl, ed.load(lvl)) for lvl in above if level_paths(ed.dvc_dir).get(lvl) is not None]


def add_remote(
    ed: Editor,
    name: str,
    url: str,
    *,
    level: str = "repo",
    default: bool = False,
    force: bool = False,
) -> str:
    """Adds remote `name` (lower-cased, as DVC does); returns the stored name."""
    name = name.lower()
    cf = ed.load(level)
    section = _remote_section(name)
    if section in cf.sections and not force:
        raise RemoteConfigError(
            f"`{cf.path}`: remote `{name}` already exists; use `-f` to overwrite it"
        )
    _check_remote_url(url, cf.path)
    cf.sections[section] = {"url": ed.store_path(url, cf)}
    if default:
        cf.sections.setdefault("core", {})["remote"] = name
    save(cf, ed, level)
    return name


def remove_remote(ed: Editor, name: str, *, level: str = "repo") -> None:
    """Removes remote `name`, and unsets `core.remote` where it named it."""
    name = name.lower()
    cf = ed.load(level)
    section = _remote_section(name)
    if section not in cf.sections:
        raise RemoteConfigError(f"`{cf.path}`: remote `{name}` doesn't exist")
    del cf.sections[section]
    save(cf, ed, level)
    # DVC-compat: only at `level` and the levels above it (a default set in a lower
    # level is left), and only a value spelled exactly as the name.
    for lvl, other in [*_shadowing(ed, level), (level, ed.load(level))]:
        core = other.sections.get("core", {})
        if core.get("remote") == name:
            del core["remote"]
        if not core:
            other.sections.pop("core", None)
        save(other, ed, lvl)


def rename_remote(ed: Editor, old: str, new: str, *, level: str = "repo") -> None:
    """Renames a remote; it moves to the end of its file, and defaults follow it.

    DVC-compat: only the old name is lower-cased; the new one is stored as typed.
    """
    old = old.lower()
    if _remote_exists(ed, new.lower()):
        raise RemoteConfigError(
            f"`{ed.path(level)}`: remote `{new}` already exists; choose another name"
        )
    cf = ed.load(level)
    if _remote_section(old) not in cf.sections:
        raise RemoteConfigError(f"`{cf.path}`: remote `{old}` doesn't exist")
    cf.sections[_remote_section(new)] = cf.sections.pop(_remote_section(old))
    _rename_default(cf, old, new)
    save(cf, ed, level)
    for lvl, other in _shadowing(ed, level):
        _rename_default(other, old, new)
        save(other, ed, lvl)


def _rename_default(cf: ConfigFile, old: str, new: str) -> None:
    core = cf.sections.get("core", {})
    if core.get("remote") == old:
        core["remote"] = new


def modify_remote(
    ed: Editor,
    name: str,
    key: str,
    value: str | None,
    *,
    level: str | None = "repo",
) -> None:
    """Sets (or with `value=None` unsets) one option of an existing remote.

    `level` None: the repo's file, as when no level is named on the command line.
    """
    name = name.lower()
    cf = ed.load(level or "repo")
    section = _remote_section(name)
    # DVC-compat: the remote must be defined at the named level or one below it; with
    # no level named, at any level (though the repo's file is the one written).
    if section not in ed.merged_to(level, cf):
        where = " at this level or below" if level else ""
        raise RemoteConfigError(
            f"`{cf.path}`: remote `{name}` doesn't exist{where}; add it with `mlvc remote add`"
        )
    values = cf.sections.setdefault(section, {})
    if value is None:
        # DVC-compat: unsetting an option that is not set succeeds; the emptied
        # section is written as a bare header.
        values.pop(key, None)
    else:
        check_value(section, key, value, cf.path)
        if ("remote", key) in PATH_KEYS:
            value = ed.store_path(value, cf)
        values[key] = value
    save(cf, ed, level or "repo")


def set_default(ed: Editor, name: str | None, *, level: str | None = "repo") -> None:
    """Sets `core.remote` (None unsets it); the remote must exist, as in DVC.

    `level` None: the repo's file, as when no level is named on the command line.
    """
    cf = ed.load(level or "repo")
    core = cf.sections.setdefault("core", {})
    if name is None:
        core.pop("remote", None)
    else:
        name = name.lower()
        # DVC-compat: at the named level or one below it; with none named, at any level.
        if _remote_section(name) not in ed.merged_to(level, cf):
            where = " at this level or below" if level else ""
            raise RemoteConfigError(
                f"`{cf.path}`: remote `{name}` doesn't exist{where}, so it cannot be the default"
            )
        core["remote"] = name
    if not core:
        del cf.sections["core"]
    save(cf, ed, level or "repo")


def get_default(ed: Editor, level: str | None = None) -> str | None:
    """`core.remote` of a level, or merged; None when unset."""
    if level is not None:
        return ed.load(level).sections.get("core", {}).get("remote")
    hit = ed.merged().get("core", {}).get("remote")
    return hit[0] if hit else None


def list_remotes(ed: Editor, level: str | None = None) -> list[tuple[str, str, bool]]:
    """`(name, url as shown, is default)` of each remote with a url."""
    default = get_default(ed, level)
    files = [ed.load(level)] if level is not None else [cf for _lvl, cf in ed.levels()]
    found: dict[str, str] = {}
    for cf in files:
        for section, values in cf.sections.items():
            kind, sub = section_kind(section)
            if kind == "remote" and sub is not None and "url" in values:
                found[sub] = show_path(values["url"], cf.path)
    return [(n, u, n == default) for n, u in found.items()]


# --- cache dir --------------------------------------------------------------------------------


def set_cache_dir(ed: Editor, path: str, *, level: str = "repo") -> None:
    """`cache dir PATH`: stored relative to the config file's directory (`.dvc/`)."""
    set_value(ed, "cache.dir", path, level)


def get_cache_dir(ed: Editor, level: str | None = None) -> str:
    """The cache directory in effect (DVC's default `.dvc/cache` when unset)."""
    if level is not None:
        return get(ed, "cache.dir", level) or ""
    value = get(ed, "cache.dir")
    if value is not None:
        return value
    if ed.dvc_dir is None:
        raise ConfigError("no repository here, so there is no default cache; use `--global`")
    return str(ed.dvc_dir / "cache")
