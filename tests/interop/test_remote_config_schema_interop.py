"""Remote options: mlvc accepts a config exactly when real DVC does (DVC is the oracle).

Three views: DVC's own schema over a grid of every scheme, key and sample value it
knows (one DVC process); `dvc status` and `mlvc status` on config files written
directly; and the files `remote modify` leaves (or refuses to write) with each tool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from mlvc.config import ConfigFile, RemoteOptionError, check_remote
from tests.conftest import dvc_executable, dvc_python, run_captured
from tests.interop.conftest import base_env
from tests.unit.test_remote_config_schema import CASES

T = TypeVar("T")

# Run by DVC's interpreter: the grid from DVC's REMOTE_SCHEMAS (plus the rows given on
# stdin), each with the verdict of DVC's config validation.
ORACLE = r"""
import json, sys
from dvc.config import Config, ConfigError
from dvc.config_schema import REMOTE_SCHEMAS

VALUES = ["true", "FALSE", "maybe", "1", "0", "-1", "2", "1.5", "inf", "nan", "copy",
          "copy, symlink", "copy,bogus", "GROUP", "Digest", "", "x"]
keys = {"bogus"}
for schema in REMOTE_SCHEMAS.values():
    keys |= {getattr(k, "schema", k) for k in schema}
keys = sorted(k for k in keys if isinstance(k, str) and k != "url")
rows = [[f"{s}://h/p" if s else "/tmp/p", k, v] for s in REMOTE_SCHEMAS for k in keys
        for v in VALUES]
rows += json.load(sys.stdin)
out = []
for url, key, value in rows:
    try:
        Config.validate({"remote": {"r": {"url": url, key: value}}})
        out.append([url, key, value, True])
    except ConfigError:
        out.append([url, key, value, False])
print(json.dumps(out))
"""

# Run through both command lines (kept short: each DVC run costs about half a second).
STATUS_SAMPLE = [
    ("azure://c/p", "account_name", "foo"),
    ("https://h/p", "ssl_verify", "maybe"),
    ("ssh://h/p", "allow_agent", "maybe"),
    ("s3://b/p", "cache_regions", "true"),
    ("ftp://h/p", "jobs", "2"),
]
MODIFY_SAMPLE = [
    ("azure://c/p", "sas_token", "t"),
    ("/tmp/loc", "region", "us-east-1"),
    ("/tmp/loc", "ssl_verify", "maybe"),
]


def mlvc_accepts(url: str, key: str, value: str) -> bool:
    try:
        check_remote('remote "r"', {"url": (url, "f"), key: (value, "f")})
    except RemoteOptionError:
        return False
    return True


def private_env(tmp: Path) -> dict[str, str]:
    env = base_env(tmp)
    env.update({"HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "home" / ".config")})
    return env


def new_repo(path: Path, env: dict[str, str], sections: dict[str, dict[str, str]]) -> Path:
    """A git repository whose `.dvc/config` is written directly (no tool's checks)."""
    (path / ".dvc").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=path, env=env, check=True)
    (path / ".dvc" / "config").write_text(ConfigFile(path, sections).dumps())
    return path


def run(argv: list[str], repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_captured(argv, cwd=repo, env=env)


def in_parallel(jobs: list[Callable[[], T]]) -> list[T]:
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return list(pool.map(lambda job: job(), jobs))


def test_every_scheme_key_and_value_is_judged_as_dvc_judges_it(real_dvc: Path) -> None:
    rows = [[url, key, value] for url, key, value, _ok in CASES]
    r = subprocess.run(
        [str(dvc_python()), "-c", ORACLE],
        input=json.dumps(rows),
        capture_output=True,
        text=True,
        check=True,
    )
    verdicts = json.loads(r.stdout)
    assert len(verdicts) > 1000
    wrong = [
        (url, key, value, dvc_ok)
        for url, key, value, dvc_ok in verdicts
        if mlvc_accepts(url, key, value) != dvc_ok
    ]
    assert wrong == []
    # The unit test's table says what DVC says.
    assert [ok for *_, ok in verdicts[-len(CASES) :]] == [ok for *_, ok in CASES]


def test_status_fails_exactly_when_dvc_status_does(tmp_path: Path, real_dvc: Path) -> None:
    env = private_env(tmp_path)
    repos = [
        new_repo(tmp_path / f"r{i}", env, {'remote "r"': {"url": url, key: value}})
        for i, (url, key, value) in enumerate(STATUS_SAMPLE)
    ]
    jobs = [
        lambda argv=argv, repo=repo: run([*argv, "status"], repo, env)
        for argv in ([str(dvc_executable())], [sys.executable, "-m", "mlvc"])
        for repo in repos
    ]
    results = in_parallel(jobs)
    theirs, ours = results[: len(repos)], results[len(repos) :]
    for case, t, o in zip(STATUS_SAMPLE, theirs, ours, strict=True):
        assert (case, o.returncode) == (case, t.returncode), (t.stderr, o.stderr)
        if o.returncode:
            assert o.returncode == 251
            first = o.stderr.splitlines()[0]
            assert first.startswith("error: `") and ".dvc/config" in first, o.stderr
            assert f"`{case[1]}`" in first or "ftp://" in first, o.stderr


def test_remote_modify_writes_exactly_what_dvc_writes(tmp_path: Path, real_dvc: Path) -> None:
    env = private_env(tmp_path)
    tools = {"dvc": [str(dvc_executable())], "mlvc": [sys.executable, "-m", "mlvc"]}
    jobs: list[Callable[[], tuple[int, bytes]]] = []
    for i, (url, key, value) in enumerate(MODIFY_SAMPLE):
        for tool, argv in tools.items():
            repo = new_repo(tmp_path / f"{tool}{i}", env, {'remote "r"': {"url": url}})

            def job(
                repo: Path = repo, argv: list[str] = argv, key: str = key, value: str = value
            ) -> tuple[int, bytes]:
                r = run([*argv, "remote", "modify", "r", key, value], repo, env)
                return r.returncode, (repo / ".dvc" / "config").read_bytes()

            jobs.append(job)
    results = in_parallel(jobs)
    for n, case in enumerate(MODIFY_SAMPLE):
        theirs, ours = results[2 * n], results[2 * n + 1]
        assert (case, ours) == (case, theirs)
