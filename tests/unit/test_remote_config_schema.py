"""Remote options follow DVC's schema: which keys a remote takes depends on its url.

DVC-compat: dvc/config_schema.py (`REMOTE_SCHEMAS`, `ByUrl`, `Bool`). Each row of
`CASES` was checked against DVC 3.67.1 (and is again, in
tests/interop/test_remote_config_schema_interop.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlvc.config import Config, ConfigError, ConfigFile, RemoteOptionError, check_remote
from mlvc.ops.configure import Editor, modify_remote

# (url, key, value, DVC accepts it)
CASES: list[tuple[str, str, str, bool]] = [
    # Azure
    ("azure://c/p", "account_name", "foo", True),
    ("azure://c/p", "account_key", "k==", True),
    ("azure://c/p", "connection_string", "DefaultEndpointsProtocol=https", True),
    ("azure://c/p", "sas_token", "sv=2020&sig=x", True),
    ("azure://c/p", "tenant_id", "t", True),
    ("azure://c/p", "client_id", "c", True),
    ("azure://c/p", "client_secret", "s", True),
    ("azure://c/p", "exclude_managed_identity_credential", "False", True),
    ("azure://c/p", "allow_anonymous_login", "maybe", False),
    ("azure://c/p", "timeout", "30", True),
    ("azure://c/p", "timeout", "1.5", False),
    ("azure://c/p", "use_ssl", "true", False),
    ("azure://c/p", "region", "x", False),
    # HTTP(S)
    ("http://h/p", "auth", "Basic", True),
    ("http://h/p", "auth", "bearer", False),
    ("http://h/p", "custom_auth_header", "X-Token", True),
    ("http://h/p", "method", "PUT", True),
    ("http://h/p", "ssl_verify", "maybe", True),  # a CA bundle path is a string
    ("http://h/p", "connect_timeout", "1.5", True),
    ("http://h/p", "read_timeout", "inf", True),
    ("http://h/p", "connect_timeout", "-1", False),
    ("http://h/p", "read_timeout", "nan", False),
    ("http://h/p", "port", "80", False),
    ("https://h/p", "ask_password", "TRUE", True),
    ("https://h/p", "ask_password", "1", False),
    # SSH
    ("ssh://h/p", "allow_agent", "false", True),
    ("ssh://h/p", "allow_agent", "maybe", False),
    ("ssh://h/p", "gss_auth", "true", True),
    ("ssh://h/p", "port", "2222", True),
    ("ssh://h/p", "port", "ssh", False),
    ("ssh://h/p", "max_sessions", "4", True),
    ("ssh://h/p", "passphrase", "x", True),
    ("ssh://h/p", "type", "copy, symlink", True),
    ("ssh://h/p", "type", "", False),
    # GS, GDrive, OSS
    ("gs://b/p", "projectname", "p", True),
    ("gs://b/p", "region", "x", False),
    ("gdrive://root/p", "gdrive_client_id", "id", True),
    ("gdrive://root/p", "gdrive_use_service_account", "true", True),
    ("gdrive://root/p", "gdrive_trash_only", "yes", False),
    ("oss://b/p", "oss_key_id", "k", True),
    ("oss://b/p", "oss_endpoint", "e", True),
    ("oss://b/p", "region", "x", False),
    # S3
    ("s3://b/p", "sse_kms_key_id", "k", True),
    ("s3://b/p", "grant_read", "id=x", True),
    ("s3://b/p", "grant_read_acp", "id=x", True),
    ("s3://b/p", "region", "us-east-1", True),
    ("s3://b/p", "use_ssl", "false", True),
    ("s3://b/p", "use_ssl", "on", False),
    ("s3://b/p", "read_timeout", "60", True),
    ("s3://b/p", "read_timeout", "1.5", False),
    ("s3://b/p", "jobs", "1_0", True),  # Python's int() reads it
    ("s3://b/p", "account_name", "x", False),
    ("s3://b/p", "type", "copy", False),
    # DVC types these as Python bool / int: a string from a file never passes.
    ("s3://b/p", "cache_regions", "true", False),
    ("hdfs://h/p", "replication", "3", False),
    ("hdfs://h/p", "kerb_ticket", "t", True),
    # WebHDFS, WebDAV
    ("webhdfs://h/p", "kerberos", "true", True),
    ("webhdfs://h/p", "use_https", "no", False),
    ("webhdfs://h/p", "data_proxy_target", "x", True),
    ("webdav://h/p", "token", "t", True),
    ("webdav://h/p", "timeout", "1.5", False),
    ("webdavs://h/p", "bearer_token_command", "cmd", True),
    ("webdavs://h/p", "cert_path", "/c", True),
    # A path: local options only
    ("/tmp/loc", "type", "hardlink", True),
    ("/tmp/loc", "type", "bogus", False),
    ("/tmp/loc", "shared", "GROUP", True),
    ("/tmp/loc", "shared", "world", False),
    ("/tmp/loc", "verify", "false", True),
    ("/tmp/loc", "verify", "maybe", False),
    ("/tmp/loc", "verify", "yes", False),
    ("/tmp/loc", "jobs", "4", True),
    ("/tmp/loc", "jobs", "0", False),
    ("/tmp/loc", "checksum_jobs", "x", False),
    ("/tmp/loc", "worktree", "True", True),
    ("/tmp/loc", "version_aware", "false", True),
    ("/tmp/loc", "no_traverse", "true", True),
    ("/tmp/loc", "slow_link_warning", "false", True),
    ("/tmp/loc", "region", "us-east-1", False),
    ("/tmp/loc", "ssl_verify", "maybe", False),
    ("/tmp/loc", "ssl_verify", "true", False),
    ("/tmp/loc", "account_name", "x", False),
    ("/tmp/loc", "user", "u", False),
    ("../rel", "protected", "true", True),
    # A url without a host is a path whatever its scheme.
    ("file:///tmp/x", "type", "copy", True),
    ("s3:///x", "type", "copy", True),
    ("s3:///x", "region", "x", False),
    # `remote://` takes anything; an unknown scheme or a broken url nothing.
    ("remote://other/sub", "anything", "maybe", True),
    ("ftp://h/p", "jobs", "2", False),
    ("http://[::1/x", "jobs", "2", False),
]


@pytest.fixture
def dvc_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository's `.dvc/`, with private (empty) global and system levels."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "global"))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    d = tmp_path / "repo" / ".dvc"
    d.mkdir(parents=True)
    return d


def write(path: Path, sections: dict[str, dict[str, str]]) -> None:
    """Writes a config file as DVC lays it out, without mlvc's checks."""
    path.write_text(ConfigFile(path, sections).dumps())


def loads(dvc_dir: Path) -> bool:
    try:
        Config.load(dvc_dir)
    except ConfigError:
        return False
    return True


def _id(case: tuple[str, str, str, bool]) -> str:
    url, key, value, ok = case
    return f"{url}|{key}={value}|{'ok' if ok else 'refused'}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_loading_accepts_what_dvc_accepts(dvc_dir: Path, case: tuple[str, str, str, bool]) -> None:
    url, key, value, ok = case
    write(dvc_dir / "config", {'remote "r"': {"url": url, key: value}})
    assert loads(dvc_dir) is ok


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_remote_modify_writes_only_what_dvc_accepts(
    dvc_dir: Path, case: tuple[str, str, str, bool]
) -> None:
    url, key, value, ok = case
    write(dvc_dir / "config", {'remote "r"': {"url": url}})
    before = (dvc_dir / "config").read_text()
    ed = Editor.open(dvc_dir, dvc_dir.parent)
    try:
        modify_remote(ed, "r", key, value)
    except ConfigError:
        assert not ok
        assert (dvc_dir / "config").read_text() == before  # nothing written
    else:
        assert ok
        assert ConfigFile.load(dvc_dir / "config").sections['remote "r"'][key] == value


def test_errors_are_one_line_naming_file_section_and_key_with_a_hint(dvc_dir: Path) -> None:
    write(dvc_dir / "config", {'remote "loc"': {"url": "/tmp/loc", "region": "us-east-1"}})
    with pytest.raises(RemoteOptionError) as info:
        Config.load(dvc_dir)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"`{dvc_dir / 'config'}`: unknown key `region`")
    assert '[remote "loc"]' in message
    assert info.value.exit_code == 251
    assert info.value.hint is not None and "s3" in info.value.hint

    write(dvc_dir / "config", {'remote "h"': {"url": "https://h/p", "ask_password": "maybe"}})
    with pytest.raises(RemoteOptionError) as info:
        Config.load(dvc_dir)
    assert "`ask_password`" in str(info.value) and "true or false" in str(info.value)
    assert "got `maybe`" in str(info.value)


def test_the_url_may_come_from_another_level(dvc_dir: Path) -> None:
    write(dvc_dir / "config", {'remote "az"': {"url": "azure://c/p"}})
    write(dvc_dir / "config.local", {'remote "az"': {"account_key": "k"}})
    assert loads(dvc_dir)
    # The merged url decides: a local path overriding it makes `account_key` unknown,
    # and the error names the file holding the key.
    write(dvc_dir / "config.local", {'remote "az"': {"account_key": "k"}})
    write(dvc_dir / "config", {'remote "az"': {"url": "/tmp/p"}})
    with pytest.raises(RemoteOptionError, match=r"config.local`: unknown key `account_key`"):
        Config.load(dvc_dir)


def test_modify_at_the_local_level_checks_against_the_url_of_the_repo_level(
    dvc_dir: Path,
) -> None:
    write(dvc_dir / "config", {'remote "az"': {"url": "azure://c/p"}, 'remote "loc"': {"url": "x"}})
    ed = Editor.open(dvc_dir, dvc_dir.parent)
    modify_remote(ed, "az", "sas_token", "t", level="local")
    assert "sas_token = t" in (dvc_dir / "config.local").read_text()
    with pytest.raises(RemoteOptionError, match="unknown key `sas_token`"):
        modify_remote(ed, "loc", "sas_token", "t", level="local")
    # Changing the url to another kind is refused while options of the old kind remain.
    with pytest.raises(RemoteOptionError, match=r"config.local`: unknown key `sas_token`"):
        modify_remote(ed, "az", "url", "/tmp/elsewhere")
    assert loads(dvc_dir)


def test_a_remote_without_a_url_may_only_hold_options_some_remote_takes(tmp_path: Path) -> None:
    # A file that is no config level stands alone: the url may be elsewhere.
    cf = ConfigFile(tmp_path / "other.ini", {'remote "r"': {"account_name": "a"}})
    cf.save()
    cf.sections['remote "r"']["bogus"] = "1"
    with pytest.raises(RemoteOptionError, match="unknown key `bogus`"):
        cf.save()


def test_override_sections_are_checked_against_the_merged_url(dvc_dir: Path) -> None:
    write(dvc_dir / "config", {'remote "loc"': {"url": "/tmp/loc"}})
    cfg = Config.load(dvc_dir)
    cfg.overridden({'remote "loc"': {"jobs": "2"}}, base_dir=dvc_dir, origin="--remote-config")
    with pytest.raises(RemoteOptionError, match=r"^`--remote-config`: unknown key `region`"):
        cfg.overridden(
            {'remote "loc"': {"region": "x"}}, base_dir=dvc_dir, origin="--remote-config"
        )


def test_check_remote_leaves_a_missing_url_to_the_caller() -> None:
    check_remote('remote "r"', {"jobs": ("2", "f")})
    with pytest.raises(RemoteOptionError, match="unsupported remote url type `ftp://`"):
        check_remote('remote "r"', {"url": ("ftp://h/p", "f")})
