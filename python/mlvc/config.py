"""DVC's config files: INI in configobj's dialect, four levels, merged.

DVC-compat: sections `[core]`, `['remote "name"']`; keys indented by four
spaces; values holding a comma are double-quoted; relative paths (`url`,
`cache.dir`) are stored relative to the directory of the file that holds them.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Iterable
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
        # DVC's schema still takes these (`experiments` is obsolete).
        "experiments",
        "machine",
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
    # Which options a remote takes depends on the scheme of its url: `REMOTE_SCHEMAS`,
    # checked on the merged view of all levels (`check_remotes`). Empty: no flat list.
    "remote": set(),
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
    "hydra": {"enabled", "config_dir", "config_module", "config_name", "plugins_path"},
    "studio": {"token", "url", "repo_url", "offline"},
    # Empty: DVC takes any key here (it warns about, and ignores, all but `machine`).
    "feature": set(),
    "db": {"url", "username", "password"},
    "machine": {
        "cloud",
        "region",
        "image",
        "spot",
        "spot_price",
        "instance_hdd_size",
        "instance_type",
        "instance_gpu",
        "ssh_private",
        "startup_script",
        "setup_script",
    },
}
# DVC-compat (`Config._map_dirs`): the values DVC stores relative to their file's directory.
PATH_KEYS = {
    ("cache", "dir"),
    *(
        ("remote", key)
        for key in (
            "url",
            "gdrive_user_credentials_file",
            "gdrive_service_account_json_file_path",
            "credentialpath",
            "configpath",
            "keyfile",
            "cert_path",
            "key_path",
        )
    ),
    ("machine", "startup_script"),
    ("machine", "setup_script"),
}
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class ConfigError(MlvcError):
    """A config file that cannot be read, or a bad key or value."""

    exit_code = 251
    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class RemoteOptionError(ConfigError):
    """A remote option (or url) DVC's schema refuses for the scheme of the remote's url."""


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
        except UnicodeDecodeError as exc:
            raise ConfigError(f"`{path}` is not valid UTF-8") from exc
        current: dict[str, str] | None = None
        seen: dict[str, set[str]] = {}
        keys: set[str] = set()
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                if not line.endswith("]"):
                    raise ConfigError(f"`{path}:{lineno}`: unterminated section header `{line}`")
                # DVC-compat: section names and keys are read lower-cased; a section or
                # a key given twice is refused (DVC's INI parser does).
                raw_name = _unquote(line.strip("[]").strip())
                if raw_name in seen:
                    raise ConfigError(
                        f"`{path}:{lineno}`: duplicate section `[{raw_name}]`",
                        "merge its options into the first one",
                    )
                seen[raw_name] = set()
                keys = seen[raw_name]
                current = cfg.sections.setdefault(raw_name.lower(), {})
                continue
            if "=" not in line or current is None:
                raise ConfigError(
                    f"`{path}:{lineno}`: expected `key = value` inside a section, got `{line}`"
                )
            key, _, value = line.partition("=")
            if key.strip() in keys:
                raise ConfigError(
                    f"`{path}:{lineno}`: duplicate option `{key.strip()}`", "keep only one of them"
                )
            keys.add(key.strip())
            current[key.strip().lower()] = _unquote(value)
        return cfg

    def dumps(self) -> str:
        """Serialises in DVC's layout."""
        out = []
        for name, values in self.sections.items():
            # DVC-compat: an emptied named section (`remote "r"`) keeps its header.
            if not values and section_kind(name)[1] is None:
                continue
            header = f"['{name}']" if '"' in name else f"[{name}]"
            out.append(header)
            out.extend(f"    {k} = {_quote(v)}" for k, v in values.items())
        return "".join(line + "\n" for line in out)

    def save(self) -> None:
        """Writes the file atomically (temp file and rename).

        DVC-compat: as with `dvc config` and `dvc remote modify`, nothing is written
        when the remotes, merged with the other levels, hold options DVC refuses.
        """
        check_remotes(locate(self._among_levels()))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # DVC-compat: configobj writes an empty config as one newline.
        atomic_write_text(self.path, self.dumps() or "\n")

    def _among_levels(self) -> list[tuple[Origin, dict[str, dict[str, str]]]]:
        """This file's sections in read order among the other levels' (read from disk).

        Its level is told by its path: the user levels by their locations, merged with
        the levels up to theirs (what DVC checks before writing one); a repository's
        by their names (`.dvc/config`, `.dvc/config.local`), merged with every level.
        Any other file stands alone.
        """
        user = level_paths(None)
        if self.path in (user["system"], user["global"]):
            paths = [user["system"], user["global"]]
            paths = paths[: paths.index(self.path) + 1]
        elif self.path.name in ("config", "config.local"):
            paths = list(level_paths(self.path.parent).values())
        else:
            paths = [self.path]
        return [
            (p, self.sections if p == self.path else ConfigFile.load(p).sections)
            for p in paths
            if p is not None
        ]


def validate(sections: dict[str, dict[str, str]], origin: Path | str) -> None:
    """Rejects unknown sections and keys the way DVC's schema does.

    Remote options depend on the remote's url, which may be in another level: they
    are checked on the merged view ([`check_remotes`]).
    """
    for name, values in sections.items():
        kind, _name = section_kind(name)
        if kind not in KNOWN_KEYS:
            raise ConfigError(f"`{origin}`: unknown section `[{name}]`")
        known = KNOWN_KEYS[kind]
        for key, value in values.items():
            if known and key not in known:
                raise ConfigError(f"`{origin}`: unknown key `{key}` in section `[{name}]`")
            check = _VALUE_CHECKS.get((kind, key))
            expected = check(value) if check is not None else None
            if expected is not None:
                raise ConfigError(
                    f"`{origin}`: `{key}` in section `[{name}]` expects {expected}, got `{value}`",
                    "DVC refuses to read such a value; fix it in that file",
                )


# --- remote options, per url scheme ---------------------------------------------------------
#
# DVC-compat: dvc/config_schema.py (`REMOTE_SCHEMAS`, `ByUrl`). Each option maps to a check
# of its value, as DVC types it; a check returns None when DVC takes the value, else what
# DVC expects. Values are the strings the file holds (configobj strips unquoted ones).

ValueCheck = Callable[[str], str | None]


def _text(value: str) -> str | None:
    """`str`, and `Any(Bool, str)` (`ssl_verify`: true, false or a CA bundle path)."""
    return None


def _bool(value: str) -> str | None:
    """`Bool`: lower-cased, then only `true` or `false` (no `1`, `yes`, surrounding spaces)."""
    return None if value.lower() in ("true", "false") else "true or false"


def _integer(value: str) -> str | None:
    """`Coerce(int)`: what Python's `int()` reads (`+3`, ` 3 `, `1_000`; not `3.0`)."""
    try:
        int(value)
    except ValueError:
        return "an integer"
    return None


def _jobs(value: str) -> str | None:
    """`All(Coerce(int), Range(1))`."""
    try:
        ok = int(value) >= 1
    except ValueError:
        ok = False
    return None if ok else "an integer of at least 1"


def _seconds(value: str) -> str | None:
    """`All(Coerce(float), Range(0, min_included=True))`: `inf` passes, `nan` does not."""
    try:
        ok = float(value) >= 0
    except ValueError:
        ok = False
    return None if ok else "a number of seconds, at least 0"


def _choice(*options: str) -> ValueCheck:
    """`All(Lower, Choices(...))`."""

    def check(value: str) -> str | None:
        return None if value.lower() in options else "one of " + ", ".join(options)

    return check


def _cache_types(value: str) -> str | None:
    """`supported_cache_type`: a comma list of link types (empty items are refused)."""
    bad = [t for t in (s.strip() for s in value.split(",")) if t not in _CACHE_TYPES]
    return "a comma list of " + ", ".join(_CACHE_TYPES) if bad else None


def _never(value: str) -> str | None:
    """DVC types these as Python's `bool` or `int`, which a value read from a file never is:
    DVC refuses them whatever they hold (s3 `cache_regions`, hdfs `replication`)."""
    return "no value"


_CACHE_TYPES = ("reflink", "hardlink", "symlink", "copy")

_REMOTE_COMMON: dict[str, ValueCheck] = {
    "url": _text,
    "checksum_jobs": _jobs,
    "jobs": _jobs,
    "worktree": _bool,
    "no_traverse": _bool,
    "version_aware": _bool,
}
_LOCAL_COMMON: dict[str, ValueCheck] = {
    "type": _cache_types,
    "protected": _bool,
    "shared": _choice("group"),
    "slow_link_warning": _bool,
    "verify": _bool,
}
# DVC-compat: the checks DVC's schema makes of the values of the other sections.
_VALUE_CHECKS: dict[tuple[str, str], ValueCheck] = {
    **{
        ("core", key): _bool
        for key in (
            "interactive",
            "analytics",
            "hardlink_lock",
            "no_scm",
            "autostage",
            "experiments",
            "check_update",
        )
    },
    ("core", "checksum_jobs"): _jobs,
    **{("cache", key): check for key, check in _LOCAL_COMMON.items()},
    ("state", "row_limit"): _jobs,
    ("machine", "cloud"): _choice("aws", "azure"),
    ("machine", "region"): _choice("us-west", "us-east", "eu-west", "eu-north"),
    ("machine", "spot"): _bool,
    ("machine", "instance_hdd_size"): _integer,
    ("feature", "machine"): _bool,
    ("plots", "auto_open"): _bool,
    ("exp", "auto_push"): _bool,
    ("parsing", "bool"): _choice("store_true", "boolean_optional"),
    ("parsing", "list"): _choice("nargs", "append"),
    ("hydra", "enabled"): _bool,
    ("studio", "offline"): _bool,
}
_HTTP_COMMON: dict[str, ValueCheck] = {
    "auth": _choice("basic", "digest", "custom"),
    "custom_auth_header": _text,
    "user": _text,
    "password": _text,
    "ask_password": _bool,
    "ssl_verify": _text,
    "method": _text,
    "connect_timeout": _seconds,
    "read_timeout": _seconds,
    "verify": _bool,
}
_WEBDAV_COMMON: dict[str, ValueCheck] = {
    "user": _text,
    "password": _text,
    "ask_password": _bool,
    "token": _text,
    "bearer_token_command": _text,
    "custom_auth_header": _text,
    "cert_path": _text,
    "key_path": _text,
    "timeout": _integer,
    "ssl_verify": _text,
    "verify": _bool,
}
_S3_TEXT = (
    "region", "profile", "credentialpath", "configpath", "endpointurl", "access_key_id",
    "secret_access_key", "session_token", "ssl_verify", "sse", "sse_kms_key_id",
    "sse_customer_algorithm", "sse_customer_key", "acl", "grant_read", "grant_read_acp",
    "grant_write_acp", "grant_full_control",
)  # fmt: skip
_AZURE_TEXT = (
    "connection_string", "sas_token", "account_name", "account_key", "tenant_id",
    "client_id", "client_secret",
)  # fmt: skip
_AZURE_BOOL = (
    "allow_anonymous_login", "exclude_environment_credential",
    "exclude_visual_studio_code_credential", "exclude_shared_token_cache_credential",
    "exclude_managed_identity_credential", "verify",
)  # fmt: skip
_GDRIVE_TEXT = (
    "profile", "gdrive_client_id", "gdrive_client_secret", "gdrive_user_credentials_file",
    "gdrive_service_account_user_email", "gdrive_service_account_json_file_path",
)  # fmt: skip
_GDRIVE_BOOL = (
    "gdrive_use_service_account", "gdrive_trash_only", "gdrive_acknowledge_abuse", "verify",
)  # fmt: skip

# The options of a remote, by the scheme of its url ("": a path); None takes any option
# (`remote://other/path` names another remote, whose options it may hold).
REMOTE_SCHEMAS: dict[str, dict[str, ValueCheck] | None] = {
    "": _LOCAL_COMMON | _REMOTE_COMMON,
    "s3": {
        **dict.fromkeys(_S3_TEXT, _text),
        **dict.fromkeys(("listobjects", "use_ssl", "allow_anonymous_login", "verify"), _bool),
        "cache_regions": _never,
        "read_timeout": _integer,
        "connect_timeout": _integer,
        **_REMOTE_COMMON,
    },
    "gs": {
        **dict.fromkeys(("projectname", "credentialpath", "endpointurl"), _text),
        **dict.fromkeys(("verify", "allow_anonymous_login"), _bool),
        **_REMOTE_COMMON,
    },
    "ssh": {
        "type": _cache_types,
        **dict.fromkeys(("port", "timeout", "max_sessions"), _integer),
        **dict.fromkeys(("user", "password", "passphrase", "keyfile"), _text),
        **dict.fromkeys(
            ("ask_password", "ask_passphrase", "gss_auth", "allow_agent", "verify"), _bool
        ),
        **_REMOTE_COMMON,
    },
    "hdfs": {"user": _text, "kerb_ticket": _text, "replication": _never, **_REMOTE_COMMON},
    "webhdfs": {
        **dict.fromkeys(
            ("kerberos_principal", "proxy_to", "ssl_verify", "token", "user", "password"),
            _text,
        ),
        "data_proxy_target": _text,
        **dict.fromkeys(("kerberos", "use_https", "verify"), _bool),
        **_REMOTE_COMMON,
    },
    "azure": {
        **dict.fromkeys(_AZURE_TEXT, _text),
        **dict.fromkeys(_AZURE_BOOL, _bool),
        **dict.fromkeys(("timeout", "read_timeout", "connection_timeout"), _integer),
        **_REMOTE_COMMON,
    },
    "oss": {
        **dict.fromkeys(("oss_key_id", "oss_key_secret", "oss_endpoint"), _text),
        "verify": _bool,
        **_REMOTE_COMMON,
    },
    "gdrive": {
        **dict.fromkeys(_GDRIVE_TEXT, _text),
        **dict.fromkeys(_GDRIVE_BOOL, _bool),
        **_REMOTE_COMMON,
    },
    "http": _HTTP_COMMON | _REMOTE_COMMON,
    "https": _HTTP_COMMON | _REMOTE_COMMON,
    "webdav": _WEBDAV_COMMON | _REMOTE_COMMON,
    "webdavs": _WEBDAV_COMMON | _REMOTE_COMMON,
    "remote": None,
}

# Where a merged value was read from: a config file, or a command-line option.
Origin = Path | str
Located = dict[str, dict[str, tuple[str, Origin]]]


def remote_kind(url: str) -> str:
    """The `REMOTE_SCHEMAS` entry for `url`: its scheme, or "" for a path.

    DVC-compat (`ByUrl`): a url without a host is a path whatever its scheme
    (`file:///x`, `s3:///x`, `c:/x`). Raises ValueError for a url that cannot be
    parsed (`http://[::1`), which DVC refuses too.
    """
    parsed = urllib.parse.urlparse(url)
    return parsed.scheme if parsed.netloc else ""


def _kind_label(kind: str) -> str:
    return kind or "local path"


def check_remote(section: str, options: dict[str, tuple[str, Origin]]) -> None:
    """Refuses what DVC's schema refuses in one remote's merged options.

    Each value comes with the file it was read from, which errors name. A remote
    without a url is left to the caller (DVC refuses it; mlvc says so in its own words).
    """
    if "url" not in options:
        return
    url, url_origin = options["url"]
    where = f"section `[{section}]`"
    try:
        kind = remote_kind(url)
    except ValueError:
        raise RemoteOptionError(
            f"`{url_origin}`: `url` in {where} is not a valid url: `{url}`",
            "fix it with `mlvc remote modify NAME url URL`",
        ) from None
    if kind not in REMOTE_SCHEMAS:
        known = ", ".join(f"{s}://" for s in REMOTE_SCHEMAS if s)
        raise RemoteOptionError(
            f"`{url_origin}`: unsupported remote url type `{kind}://` in {where}: `{url}`",
            f"use a path or one of {known}",
        )
    schema = REMOTE_SCHEMAS[kind]
    if schema is None:
        return
    for key, (value, origin) in options.items():
        check = schema.get(key)
        label = _kind_label(kind)
        if check is None:
            others = [_kind_label(s) for s, opts in REMOTE_SCHEMAS.items() if opts and key in opts]
            only = f"`{key}` only applies to {', '.join(others)} remotes; " if others else ""
            takes = ", ".join(sorted(k for k, c in schema.items() if c is not _never))
            raise RemoteOptionError(
                f"`{origin}`: unknown key `{key}` in {where} (remote type: {label})",
                f"{only}{label} remotes take {takes}",
            )
        if check is _never:
            raise RemoteOptionError(
                f"`{origin}`: DVC refuses key `{key}` in {where} whatever its value",
                "DVC's schema wants a Python value there, which a config file cannot hold; "
                "remove it",
            )
        expected = check(value)
        if expected is not None:
            raise RemoteOptionError(
                f"`{origin}`: `{key}` in {where} expects {expected}, got `{value}`",
                f"DVC refuses to read such a value for {label} remotes",
            )


def _any_remote_option(key: str) -> bool:
    return any(opts is not None and key in opts for opts in REMOTE_SCHEMAS.values())


def check_remotes(located: Located) -> None:
    """[`check_remote`] for every remote section of a merged view.

    A remote without a url (which `Config.load` refuses) may only hold options that
    some kind of remote takes.
    """
    for section, options in located.items():
        kind, sub = section_kind(section)
        if kind != "remote" or sub is None:
            continue
        if "url" not in options:
            for key, (_value, origin) in options.items():
                if not _any_remote_option(key):
                    raise RemoteOptionError(
                        f"`{origin}`: unknown key `{key}` in section `[{section}]`",
                        "no remote takes this option; see `dvc remote modify --help`",
                    )
        check_remote(section, options)


def locate(levels: Iterable[tuple[Origin, dict[str, dict[str, str]]]]) -> Located:
    """Merges sections of several levels (later ones win), keeping where each value is from."""
    merged: Located = {}
    for origin, sections in levels:
        for name, values in sections.items():
            into = merged.setdefault(name, {})
            for key, value in values.items():
                into[key] = (value, origin)
    return merged


def level_paths(dvc_dir: Path | None) -> dict[str, Path | None]:
    """Where each config level lives (DVC's locations and override variables)."""
    # DVC-compat (platformdirs): only absolute XDG directories count; the system level
    # is the first of `XDG_CONFIG_DIRS`.
    xdg_home = os.environ.get("XDG_CONFIG_HOME", "")
    xdg_dirs = [d for d in os.environ.get("XDG_CONFIG_DIRS", "").split(os.pathsep) if d]
    xdg_dirs = [d for d in xdg_dirs if os.path.isabs(d)]
    system_dir = Path(
        os.environ.get("DVC_SYSTEM_CONFIG_DIR")
        or Path(xdg_dirs[0] if xdg_dirs else "/etc/xdg") / "dvc"
    )
    global_dir = Path(
        os.environ.get("DVC_GLOBAL_CONFIG_DIR")
        or Path(xdg_home if os.path.isabs(xdg_home) else Path.home() / ".config") / "dvc"
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
        check_remotes(cfg.located())
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

    def located(self, override_origin: Origin | None = None) -> Located:
        """[`sections`], each value with the file it comes from (errors name it)."""
        return locate(
            (override_origin if level == OVERRIDE and override_origin else cf.path, cf.sections)
            for level in _READ_ORDER
            if (cf := self.files.get(level)) is not None
        )

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
        cfg = Config({**self.files, OVERRIDE: override})
        check_remotes(cfg.located(origin))
        return cfg

    def chosen_remote(self, explicit: str | None = None) -> str | None:
        """The remote a command uses: `explicit` (`-r NAME`), else `core.remote`, else None."""
        if explicit:
            return explicit
        # DVC-compat: `core.remote` is read lower-cased, as remote names are.
        configured = self.get("core", "remote")
        return configured.lower() if configured is not None else None

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
