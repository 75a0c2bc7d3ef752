"""`config`, `remote ...` and `cache dir`: mlvc does what real DVC does (DVC is the oracle).

Each case is a list of commands run by both tools, each in its own fresh repository
(initialised by that tool) with its own user config levels. Compared: the exit code
and stdout of every command, the bytes of every config file, and what `dvc config -l`
reads from the files each tool left.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import dvc_executable, run_captured, run_dvc
from tests.interop.conftest import base_env

# A step: a command line; `@out` first runs it outside any repository, `!` first marks
# one that DVC crashes on (a traceback, exit 255): mlvc must only fail too. A dict
# writes files first (paths relative to the tool's directory).
Step = tuple[str, ...] | dict[str, str]
Outcome = tuple[list[tuple[int, str, str]], dict[str, bytes | None], tuple[int, str]]

CONFIG_FILES = {
    "repo": "repo/.dvc/config",
    "local": "repo/.dvc/config.local",
    "global": "dvc-global/config",
    "system": "dvc-system/config",
    "xdg-global": "home/.config/dvc/config",
    "xdg-system": "xdg-system/dvc/config",
}


def tool_env(base: Path, *, xdg: bool) -> dict[str, str]:
    env = base_env(base)
    env.update(
        {
            "HOME": str(base / "home"),
            "XDG_CONFIG_HOME": str(base / "home" / ".config"),
            "XDG_CONFIG_DIRS": f"{base / 'xdg-system'}:/nowhere",
        }
    )
    if xdg:
        # The user levels found the way platformdirs finds them.
        del env["DVC_GLOBAL_CONFIG_DIR"], env["DVC_SYSTEM_CONFIG_DIR"]
    return env


def play(base: Path, argv0: list[str], steps: list[Step], *, xdg: bool) -> Outcome:
    for d in ("repo", "out", "home"):
        (base / d).mkdir(parents=True)
    env = tool_env(base, xdg=xdg)
    subprocess.run(["git", "init", "-q"], cwd=base / "repo", env=env, check=True)
    subprocess.run([*argv0, "init", "-q"], cwd=base / "repo", env=env, check=True)
    results = []
    for step in steps:
        if isinstance(step, dict):
            for rel, text in step.items():
                (base / rel).parent.mkdir(parents=True, exist_ok=True)
                (base / rel).write_text(text)
            continue
        args = [a for a in step if a not in ("@out", "!")]
        cwd = base / ("out" if "@out" in step else "repo")
        r = run_captured([*argv0, *args], cwd=cwd, env=env)
        results.append((r.returncode, r.stdout.replace(str(base), "<T>"), r.stderr))
    files = {
        k: (base / rel).read_bytes() if (base / rel).exists() else None
        for k, rel in CONFIG_FILES.items()
    }
    # What DVC reads from the files this tool left.
    r = run_dvc(["config", "-l"], cwd=base / "repo", env=env)
    return results, files, (r.returncode, r.stdout.replace(str(base), "<T>"))


def check_same(tmp_path: Path, steps: list[Step], *, xdg: bool = False) -> None:
    tools = {"dvc": [str(dvc_executable())], "mlvc": [sys.executable, "-m", "mlvc"]}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(play, tmp_path / name, argv0, steps, xdg=xdg)
            for name, argv0 in tools.items()
        }
        (theirs, their_files, their_read) = futures["dvc"].result()
        (ours, our_files, our_read) = futures["mlvc"].result()
    commands = [s for s in steps if not isinstance(s, dict)]
    for step, t, o in zip(commands, theirs, ours, strict=True):
        if "!" in step:
            assert t[0] == 255 and o[0] != 0, (step, t, o)
        elif t[0] == 254:
            # A usage error: DVC prints its usage text on stdout as well.
            assert o[0] == 254, (step, o)
        else:
            assert (step, o[0], o[1]) == (step, t[0], t[1]), (t[2], o[2])
        # A clean message, never a traceback.
        assert "Traceback" not in o[2], (step, o[2])
        if o[0] and o[2]:
            assert o[2].startswith("error: "), (step, o[2])
    assert our_files == their_files
    assert our_read == their_read


def test_option_names_are_lower_cased_and_hold_no_dots(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("config", "CORE.AutoStage", "TRUE"),
            ("config", "core.autostage"),
            ("config", "remote.R2.url", "s3://b/p"),
            ("config", "remote.a.b.url", "/x"),
            ("config", "machine.m.cloud", "aws"),
            ("config", "core.", "1"),
            ("!", "config", "remote.x", "val"),
            ("config", "-l"),
            ("remote", "list"),
        ],
    )


def test_keys_and_values_the_schema_takes_or_refuses(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("config", "core.experiments", "true"),
            ("config", "core.machine", "M"),
            ("config", "cache.shared", "Group"),
            ("config", "feature.foo", "x"),
            ("config", "hydra.config_module", "m"),
            ("config", "--global", "hydra.config_dir", "d"),
            ("config", "state.row_limit", "0"),
            ("config", "state.row_cleanup_quota", "101"),
            ("config", "parsing.bool", "x"),
            ("config", "parsing.list", "APPEND"),
            ("config", "db.d.bogus", "1"),
            ("config", "db.d.username", "u"),
            ("config", "core.site_cache_dir", "rel/dir"),
            ("config", "-l"),
        ],
    )


def test_an_emptied_file_holds_a_newline(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("config", "core.autostage", "true"),
            ("config", "-u", "core.autostage"),
            ("config", "--global", "core.check_update", "false"),
            ("config", "--global", "-u", "core.check_update"),
            ("cache", "dir", "c"),
            ("cache", "dir", "-u"),
        ],
    )


def test_a_remote_keeps_its_url_and_an_emptied_section(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("remote", "add", "a", "/x"),
            ("remote", "modify", "a", "-u", "url"),
            ("config", "-u", "remote.a.url"),
            ("remote", "modify", "--local", "a", "jobs", "2"),
            ("remote", "modify", "--local", "a", "-u", "jobs"),
            ("remote", "list"),
        ],
    )


def test_a_remote_must_exist_at_the_level_or_below(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("remote", "add", "a", "/x"),
            ("remote", "default", "--global", "a"),
            ("remote", "modify", "--global", "a", "jobs", "3"),
            ("config", "--global", "remote.a.jobs", "2"),
            ("config", "--local", "remote.a.jobs", "2"),
            ("remote", "default", "--local", "a"),
            ("remote", "default", "--global"),
            # With no level named, a remote at any level will do.
            ("remote", "add", "--local", "l", "/l"),
            ("remote", "modify", "l", "url", "/m"),
            ("remote", "default", "l"),
            ("remote", "default", "--project", "l"),
            ("remote", "list"),
        ],
    )


def test_remove_and_rename_touch_the_levels_dvc_touches(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("remote", "add", "--global", "-d", "a", "/g"),
            ("remote", "add", "-d", "a", "/x"),
            ("remote", "remove", "a"),
            ("remote", "add", "b", "/y"),
            ("remote", "default", "b"),
            ("remote", "rename", "b", "C"),
            ("remote", "default"),
            ("remote", "list"),
            ("config", "-l", "--show-origin"),
        ],
    )


def test_outside_a_repository_the_user_levels_are_read(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("@out", "config", "--global", "core.autostage", "true"),
            ("@out", "remote", "add", "--global", "g", "/g"),
            ("@out", "config", "-l"),
            ("@out", "config", "core.autostage"),
            ("@out", "remote", "list"),
            ("@out", "cache", "dir"),
            ("@out", "config", "--local", "core.remote", "g"),
            ("@out", "config", "--project", "-l"),
        ],
    )


def test_paths_dvc_resolves_and_shows(tmp_path: Path, real_dvc: Path) -> None:
    check_same(
        tmp_path,
        [
            ("remote", "add", "s", "ssh://h/p"),
            ("remote", "modify", "s", "keyfile", "keys/id"),
            ("remote", "add", "d", "~/store"),
            ("cache", "dir", "~/cache"),
            ("config", "remote.s.keyfile"),
            ("config", "remote.d.url"),
            ("cache", "dir"),
            # (Not `remote list`: DVC wraps its lines at 80 columns.)
            ("config", "-l"),
        ],
    )


def test_user_levels_are_found_through_xdg(tmp_path: Path, real_dvc: Path) -> None:
    system = "[core]\n    check_update = false\n"
    check_same(
        tmp_path,
        [
            {"xdg-system/dvc/config": system},
            ("config", "--global", "core.autostage", "true"),
            ("config", "-l", "--show-origin"),
            ("config", "--system", "-l"),
        ],
        xdg=True,
    )


def test_a_hand_written_config_is_read_lower_cased(tmp_path: Path, real_dvc: Path) -> None:
    text = "[CORE]\n    Remote = MyR\n['remote \"MyR\"']\n    URL = /x\n    Jobs = 2\n"
    check_same(
        tmp_path,
        [
            {"repo/.dvc/config": text},
            ("config", "-l"),
            ("remote", "list"),
            ("config", "remote.myr.jobs"),
            ("remote", "modify", "myr", "jobs", "3"),
        ],
    )


def test_remote_add_default_says_so_before_failing(tmp_path: Path, real_dvc: Path) -> None:
    check_same(tmp_path, [("remote", "add", "-d", "B", "foo://h/p"), ("remote", "default")])
