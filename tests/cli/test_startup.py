"""Start-up stays light: the CLI module does not import rendering or parsing libraries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("rich", "yaml", "pydantic", "pygments")


def test_import_cli_pulls_in_nothing_heavy() -> None:
    code = f"import sys, mlvc.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def _commands_after(registering: str) -> list[str]:
    """The app's commands in a fresh process, once `registering` (calls on `c`) ran."""
    code = (
        "import mlvc.cli as c, typer.main as tm; "
        f"{registering}; "
        "print(' '.join(sorted(tm.get_command(c.app).commands)))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return r.stdout.split()


def test_command_table_matches_what_modules_register() -> None:
    from mlvc.cli import COMMAND_MODULES

    assert _commands_after("c.register()") == sorted(COMMAND_MODULES)


def test_a_command_registers_only_its_module() -> None:
    code = (
        "import sys, mlvc.cli as c; c.register('hash'); "
        "print(sorted(m for m in sys.modules if m.startswith('mlvc.cli.')))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "mlvc.cli.hashing" in r.stdout and "mlvc.cli.remote" not in r.stdout


def _run_importing(repo: Path, *command: str) -> tuple[str, set[str]]:
    """Runs `mlvc COMMAND` in `repo`; its stdout and every module it imported."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mlvc", *command],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout, {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines()}


def test_status_imports_neither_inspect_nor_subprocess(tmp_path: Path) -> None:
    """Together about 9 ms of a 40 ms `status` in a small repository."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "mlvc", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "data.txt").write_text("x\n")
    subprocess.run(
        [sys.executable, "-m", "mlvc", "add", "-q", "data.txt"], cwd=tmp_path, check=True
    )
    for command in (["status"], ["data", "status"]):
        _stdout, imported = _run_importing(tmp_path, *command)
        assert "mlvc.ops.status" in imported or "mlvc.ops.data_status" in imported
        assert not imported & {"inspect", "subprocess"}, command


def test_a_no_op_repro_imports_neither_typer_nor_inspect_nor_subprocess(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "mlvc", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n"
    )
    subprocess.run([sys.executable, "-m", "mlvc", "repro", "-q"], cwd=tmp_path, check=True)
    stdout, imported = _run_importing(tmp_path, "repro")
    assert "Data and pipelines are up to date." in stdout
    assert "mlvc.ops.repro" in imported
    assert not imported & {"typer", "inspect", "subprocess"}


def test_dataclasses_still_document_classes_without_a_docstring() -> None:
    code = (
        "import sys, mlvc.cli, dataclasses\n"
        "assert 'inspect' not in sys.modules\n"
        "@dataclasses.dataclass\n"
        "class Point:\n"
        "    x: int\n"
        "print(Point.__doc__)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "Point(x: int)"


def test_every_dataclass_has_a_docstring() -> None:
    """Without one, `dataclasses` writes a signature into it with `inspect`, whose
    import the CLI defers (`mlvc.cli._import_dataclasses_without_inspect`)."""
    code = (
        "import dataclasses, importlib, pkgutil, sys, mlvc\n"
        "for m in pkgutil.walk_packages(mlvc.__path__, 'mlvc.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "for name, module in list(sys.modules.items()):\n"
        "    for key, value in vars(module).items() if name.startswith('mlvc') else ():\n"
        "        generated = (value.__doc__ or '').startswith(key + '(')\n"
        "        if dataclasses.is_dataclass(value) and value.__module__ == name and generated:\n"
        "            print(name, key)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout == ""


def test_command_modules_do_not_postpone_their_annotations() -> None:
    # typer reads each parameter's annotation; strings it would compile on every run.
    import __future__

    import importlib

    from mlvc.cli import MODULES

    for name in MODULES:
        module = importlib.import_module(f"mlvc.cli.{name}")
        assert getattr(module, "annotations", None) is not __future__.annotations, name


def test_registering_one_command_then_all_keeps_every_command() -> None:
    from mlvc.cli import COMMAND_MODULES

    registering = "c.register('add'); c.register('checkout'); c.register()"
    assert _commands_after(registering) == sorted(COMMAND_MODULES)
