"""Runs real DVC commands in processes forked from one that has DVC imported.

Starting `dvc` costs about 0.7 s on a 2-core machine, nearly all of it
importing DVC and its dependencies, and the interop tests start it thousands of
times. Here one server process per test worker (under DVC's own interpreter)
imports what DVC's commands import, then forks a child for each command. The
child takes the caller's stdin, stdout, stderr, working directory and
environment, runs `dvc.cli.main` as the `dvc` script does, and reports its exit
code. Every command thus runs DVC's own code in a fresh process, from the
same state a fresh `dvc` has once its imports are done: the server never runs a
command itself, so no cache of DVC's holds anything.

`MLVC_DVC_FORKSERVER=0` makes the tests start the `dvc` script instead.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import locale
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from typing import Any

# Commands run once, in a throwaway child at start-up, to learn which modules
# DVC's commands import; the server then imports exactly those.
_WARM_UP = [
    ["init", "-q", "--no-scm"],
    ["add", "-q", "f"],
    ["status"],
    ["data", "status"],
    ["repro", "-q"],
    ["remote", "add", "-q", "-d", "r", "remote"],
    ["push", "-q"],
    ["pull", "-q"],
    ["status", "-c"],
    ["gc", "-w", "-f", "-q"],
    ["checkout", "-q"],
    ["ls", "."],
    ["dag"],
    ["metrics", "show"],
    ["params", "diff"],
]
_LEN = struct.Struct("!I")
_CODE = struct.Struct("!i")


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _modules_dvc_commands_import() -> list[str]:
    """The modules a few real commands import, learnt in a child run in a temp repo."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 0
        try:
            from dvc.cli import main

            with tempfile.TemporaryDirectory() as tmp:
                os.chdir(tmp)
                os.environ["DVC_NO_ANALYTICS"] = "1"
                os.environ["HOME"] = tmp
                for k, v in (("DVC_SITE_CACHE_DIR", "site"), ("DVC_GLOBAL_CONFIG_DIR", "g")):
                    os.environ[k] = os.path.join(tmp, v)
                with open("f", "w") as f:
                    f.write("f\n")
                with open("dvc.yaml", "w") as f:
                    f.write("stages:\n  s:\n    cmd: cp f g\n    deps: [f]\n    outs: [g]\n")
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                for argv in _WARM_UP:
                    main(argv)
            with os.fdopen(write_end, "w") as out:
                json.dump(sorted(sys.modules), out)
        except BaseException:  # a failed warm-up only costs speed
            code = 1
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as inp:
        text = inp.read()
    os.waitpid(pid, 0)
    return list(json.loads(text)) if text else []


def _serve(path: str) -> None:
    for name in _modules_dvc_commands_import():
        try:
            importlib.import_module(name)
        except BaseException:  # a module that fails here fails in the child too
            continue
    from dvc.cli import main

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    server.settimeout(1.0)
    # Children report their own exit codes; the kernel reaps them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    parent = os.getppid()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while os.getppid() == parent:  # the test worker that started it is alive
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _run_one(conn, main)
        conn.close()


def _run_one(conn: socket.socket, main: Any) -> None:
    """In the forked child: runs one command as the `dvc` script would; never returns."""
    code = 255
    try:
        header, fds, _flags, _addr = socket.recv_fds(conn, _LEN.size, 3)
        (size,) = _LEN.unpack(header)
        request = json.loads(_recv_exact(conn, size))
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [request["argv0"], *request["argv"]]
        try:
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            # A closed pipe: nothing more to say.
            with contextlib.suppress(BaseException):
                stream.flush()
        try:
            conn.sendall(_CODE.pack(code))
        finally:
            os._exit(code & 0xFF)


class DvcForkServer:
    """The test side: starts a server under DVC's interpreter, and runs commands in it."""

    def __init__(self, python: str, dvc_script: str) -> None:
        self._dir = tempfile.mkdtemp(prefix="dvc-forkserver-")
        self.path = os.path.join(self._dir, "socket")
        self.dvc_script = dvc_script
        log = os.path.join(self._dir, "server.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "DVC_"))}
        env["DVC_NO_ANALYTICS"] = "1"
        with open(log, "wb") as errors:
            self._proc = subprocess.Popen(
                [python, __file__, self.path],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
        assert self._proc.stdout is not None
        if self._proc.stdout.readline() != b"ready\n":
            with open(log, errors="replace") as f:
                raise RuntimeError(f"the DVC fork server did not start:\n{f.read()}")

    def run(
        self, argv: list[str], *, cwd: str, env: dict[str, str], input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs `dvc *argv` as `subprocess.run(..., capture_output=True, text=True)` would."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        if input is None:
            in_fd, in_w = os.dup(0), None  # the caller's own stdin, as subprocess passes it
        else:
            in_fd, in_w = os.pipe()
        payload = json.dumps(
            {"argv0": self.dvc_script, "argv": argv, "cwd": os.fspath(cwd), "env": env}
        ).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(self.path)
                socket.send_fds(conn, [_LEN.pack(len(payload))], [in_fd, out_w, err_w])
                conn.sendall(payload)
            finally:
                for fd in (in_fd, out_w, err_w):
                    os.close(fd)
            data = input.encode(locale.getpreferredencoding(False)) if input is not None else b""
            stdout, stderr = _communicate(in_w, data, out_r, err_r)
            try:
                (code,) = _CODE.unpack(_recv_exact(conn, _CODE.size))
            except EOFError:
                raise RuntimeError(f"dvc {' '.join(argv)} died without an exit code") from None
        return subprocess.CompletedProcess(
            [self.dvc_script, *argv], code, _text(stdout), _text(stderr)
        )

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


def _communicate(in_w: int | None, data: bytes, out_r: int, err_r: int) -> tuple[bytes, bytes]:
    """Writes `data` to `in_w` and reads both outputs to their ends, all at once."""
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    with selectors.DefaultSelector() as sel:
        for fd in chunks:
            sel.register(fd, selectors.EVENT_READ)
        if in_w is not None:
            if data:
                os.set_blocking(in_w, False)
                sel.register(in_w, selectors.EVENT_WRITE)
            else:
                os.close(in_w)
        view = memoryview(data)
        while sel.get_map():
            for key, _ in sel.select():
                fd = int(key.fd)
                if fd == in_w:
                    try:
                        view = view[os.write(fd, view[:65536]) :]
                    except BrokenPipeError:
                        view = view[:0]
                    if not view:
                        sel.unregister(fd)
                        os.close(fd)
                    continue
                chunk = os.read(fd, 65536)
                if chunk:
                    chunks[fd].append(chunk)
                else:
                    sel.unregister(fd)
                    os.close(fd)
    return b"".join(chunks[out_r]), b"".join(chunks[err_r])


def _text(data: bytes) -> str:
    """Decoded as `subprocess` decodes in text mode (universal newlines)."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


if __name__ == "__main__":
    _serve(sys.argv[1])
