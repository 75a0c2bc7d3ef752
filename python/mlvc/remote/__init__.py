"""Storage remotes: the `Remote` protocol, its backends and the factory that picks one."""

from __future__ import annotations

import os
import re

from mlvc.config import Config, is_local_path
from mlvc.progress import Progress
from mlvc.remote.base import Remote, RemoteError, TransferResult

__all__ = [
    "Progress",
    "Remote",
    "RemoteError",
    "TransferResult",
    "UnsupportedRemoteError",
    "open_remote",
    "remote_url",
]

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


class UnsupportedRemoteError(RemoteError):
    """A remote whose url scheme has no backend in mlvc yet."""

    hint = "use a local path or a `file://` url, or run this command with `dvc`"


def remote_url(config: Config, name: str) -> str:
    """The url of remote `name`; a clear error naming the configured ones if it has none."""
    url = config.get(f'remote "{name}"', "url")
    if url is None:
        known = ", ".join(f"`{n}`" for n in config.remotes()) or "none"
        raise RemoteError(f"remote `{name}` doesn't exist (configured: {known})")
    return url


def open_remote(config: Config, name: str) -> Remote:
    """The backend for remote `name`, chosen by the scheme of its url."""
    url = remote_url(config, name)
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    elif not is_local_path(url):
        m = _SCHEME.match(url)
        scheme = m.group(1) if m else url
        raise UnsupportedRemoteError(
            f"remote `{name}` uses `{scheme}://`, which mlvc does not support yet"
        )
    from mlvc.remote.local import LocalRemote

    shared = (config.get(f'remote "{name}"', "shared") or "").lower() == "group"
    verify = config.get_bool(f'remote "{name}"', "verify")
    return LocalRemote(
        name, os.path.abspath(os.path.expanduser(url)), shared_group=shared, verify=verify
    )
