"""DVC's config files: INI in configobj's dialect, four levels, merged.

DVC-compat: sections `[core]`, `['remote "name"']`; keys indented by four
spaces; values holding a comma are double-quoted; relative paths (`url`,
`cache.dir`) are stored relative to the directory of the file that holds them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from mlvc.exceptions import MlvcError
from mlvc.fsutil import atomic_write_text

LEVELS = ("system", "global", "repo", "local")
# Above every file: what one command is told on its command line (`ls --config`,
# `--remote`, `--remote-config`), never written anywhere.
OVERRIDE = "override"
_READ_ORDER = (*LEVELS, OVERRIDE)

# Keys DVC's schema accepts, per section kind; anything else is an error, as in DVC.
KNOWN_KEYS: dict[str, set[str]] = {
    "core": {
        "remote",
        "autostage",
        "no_scm",
        "check_update",
        "analytics",
        "interactive",
        "hardlink_lock",
        "site_cache_dir",
        "loglevel",
        "checksum_jobs",
    },
    "cache": {
        "dir",
        "type",
        "shared",
        "protected",
        "slow_link_warning",
        "verify",
        "local",
        "s3",
        "gs",
        "ssh",
        "hdfs",
        "azure",
        "webhdfs",
    },
    "remote": {
        "url",
        "jobs",
        "checksum_jobs",
        "worktree",
        "version_aware",
        "verify",
        "type",
        "shared",
        "no_traverse",
        "read_timeout",
        "connect_timeout",
        "profile",
        "region",
        "endpointurl",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "credentialpath",
        "listobjects",
        "use_ssl",
        "ssl_verify",
        "sse",
        "acl",
        "grant_full_control",
        "user",
        "password",
        "ask_password",
        "keyfile",
        "port",
        "timeout",
        "allow_anonymous_login",
    },
    "state": {"row_limit", "row_cleanup_quota", "dir"},
    "index": {"dir"},
    "exp": {
        "code",
        "data",
        "models",
        "metrics",
        "params",
        "plots",
        "live",
        "auto_push",
        "git_remote",
    },
    "plots": {"html_template", "out_dir", "auto_open"},
    "parsing": {"bool", "list"},
    "hydra": {"enabled", "config_dir", "config_name", "plugins_path"},
    "studio": {"token", "url", "repo_url", "offline"},
    "feature": {"plots", "machine"},
    "db": set(),
    "machine": set(),
}
PATH_KEYS = {("cache", "dir"), ("remote", "url"), ("core", "site_cache_dir")}
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class ConfigError(MlvcError):
    """A config file that cannot be read, or a bad key or value."""

    exit_code = 251


def section_kind(section: str) -> tuple[str, str | None]:
    """Splits `remote "store"` into (`remote`, `store`); plain sections have no name."""
    m = re.fullmatch(r'(\w+)\s+"(.*)"', section)
    if m:
        return m.group(1), m.group(2)
    return section, None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    # configobj allows an inline comment after an unquoted value.
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()


def _quote(value: str) -> str:
    if value == "" or "," in value or "#" in value or value != value.strip():
        return '"' + value + '"' if '"' not in value else "'" + value + "'"
    return value


@dataclass
class ConfigFile:
    """One config file: ordered sections of ordered string values."""

    path: Path
    sections: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ConfigFile:
        """Parses `path`; a missing file is an empty config."""
        cfg = cls(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cfg
        current: dict[str, str] | None = None
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                if not line.endswith("]"):
                    raise ConfigError(f"`{path}:{lineno}`: unterminated section header `{line}`")
                name = _unquote(line.strip("[]").strip())
                current = cfg.sections.setdefault(name, {})
                continue
            if "=" not in line or current is None:
                raise ConfigError(
                    f"`{path}:{lineno}`: expected `key = value` inside a section, got `{line}`"
                )
            key, _, value = line.partition("=")
            current[key.strip()] = _unquote(value)
        return cfg

    def dumps(self) -> str:
        """Serialises in DVC's layout."""
        out = []
        for name, values in self.sections.items():
            if not values:
                continue
            header = f"['{name}']" if '"' in name else f"[{name}]"
            out.append(header)
            out.extend(f"    {k} = {_quote(v)}" for k, v in values.items())
        return "".join(line + "\n" for line in out)

    def save(self) -> None:
        """Writes the file atomically (temp file and rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, self.dumps())


def validate(sections: dict[str, dict[str, str]], origin: Path | str) -> None:
    """Rejects unknown sections and keys the way DVC's schema does."""
    for name, values in sections.items():
        kind, _name = section_kind(name)
        if kind not in KNOWN_KEYS:
            raise ConfigError(f"`{origin}`: unknown section `[{name}]`")
        known = KNOWN_KEYS[kind]
        for key in values:
            if known and key not in known:
                raise ConfigError(f"`{origin}`: unknown key `{key}` in section `[{name}]`")


def level_paths(dvc_dir: Path | None) -> dict[str, Path | None]:
    """Where each config level lives (DVC's locations and override variables)."""
    system_dir = Path(os.environ.get("DVC_SYSTEM_CONFIG_DIR", "/etc/xdg/dvc"))
    global_dir = Path(
        os.environ.get("DVC_GLOBAL_CONFIG_DIR")
        or Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "dvc"
    )
    return {
        "system": system_dir / "config",
        "global": global_dir / "config",
        "repo": dvc_dir / "config" if dvc_dir else None,
        "local": dvc_dir / "config.local" if dvc_dir else None,
    }


def is_local_path(url: str) -> bool:
    """Tells whether a remote url or cache dir is a plain filesystem path."""
    return not _URL_SCHEME.match(url)


@dataclass
class Config:
    """All config levels of one repository, merged on read (later levels win)."""

    files: dict[str, ConfigFile]

    @classmethod
    def load(cls, dvc_dir: Path | None) -> Config:
        files = {}
        for level, path in level_paths(dvc_dir).items():
            if path is None:
                continue
            cf = ConfigFile.load(path)
            validate(cf.sections, path)
            files[level] = cf
        cfg = cls(files)
        # A level may only modify a remote defined elsewhere (`remote modify --local`),
        # so the url is required of the merged view, not of each file.
        for name, values in cfg.sections().items():
            kind, sub = section_kind(name)
            if kind == "remote" and sub is not None and "url" not in values:
                raise ConfigError(f"remote `{sub}` has no `url` in any config file")
        return cfg

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        """The merged value; relative paths come back absolute."""
        for level in reversed(_READ_ORDER):
            cf = self.files.get(level)
            if cf is None:
                continue
            value = cf.sections.get(section, {}).get(key)
            if value is not None:
                kind, _ = section_kind(section)
                if (kind, key) in PATH_KEYS and is_local_path(value):
                    expanded = os.path.expanduser(value)
                    return os.path.normpath(os.path.join(cf.path.parent, expanded))
                return value
        return default

    def sections(self) -> dict[str, dict[str, str]]:
        """Every section merged across levels, values as written."""
        merged: dict[str, dict[str, str]] = {}
        for level in _READ_ORDER:
            cf = self.files.get(level)
            if cf is None:
                continue
            for name, values in cf.sections.items():
                merged.setdefault(name, {}).update(values)
        return merged

    def overridden(
        self, sections: dict[str, dict[str, str]], *, base_dir: Path, origin: str
    ) -> Config:
        """This config with `sections` above every level; the files are left as they are.

        Relative paths in them are read from `base_dir`; errors name `origin`.
        """
        validate(sections, origin)
        values = {name: dict(v) for name, v in sections.items()}
        # Paths are resolved against the directory of a file's path.
        override = ConfigFile(base_dir / "(override)", values)
        return Config({**self.files, OVERRIDE: override})

    def chosen_remote(self, explicit: str | None = None) -> str | None:
        """The remote a command uses: `explicit` (`-r NAME`), else `core.remote`, else None."""
        return explicit or self.get("core", "remote")

    def remotes(self) -> list[str]:
        """Names of all configured remotes."""
        return [
            sub
            for name in self.sections()
            for kind, sub in [section_kind(name)]
            if kind == "remote" and sub is not None
        ]

    def get_bool(self, section: str, key: str, default: bool = False) -> bool:
        value = self.get(section, key)
        if value is None:
            return default
        return value.strip().lower() in ("true", "1", "yes", "on")
