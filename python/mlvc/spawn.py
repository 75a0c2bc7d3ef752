"""Running git for its output, without the `subprocess` module.

`status` and `data status` each ask git one question; importing `subprocess` (with
`selectors`, `threading` and `signal`) took about 5 ms of their 40 ms start-up in a
small repository, more than the question itself. `os.posix_spawnp` starts the
command as `subprocess` does on Linux (vfork and exec), with stdin and stderr on
`/dev/null` and stdout on a pipe.
"""

from __future__ import annotations

import os
from pathlib import Path

# The child gets SIGPIPE back at its default, as `subprocess` gives it (Python
# ignores it in its own process). Its number on Linux; `signal` is not imported
# for one constant.
_SIGPIPE = 13
_SIGKILL = 9


class SpawnError(OSError):
    """A command that exited non-zero; `returncode` and `stdout` tell how."""

    def __init__(self, argv: list[str], returncode: int, stdout: bytes) -> None:
        super().__init__(f"`{' '.join(argv)}` exited with {returncode}")
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout


class Spawned:
    """A command started with its stdout on a pipe; `output()` waits for it."""

    def __init__(self, argv: list[str], *, cwd: Path | str | None = None) -> None:
        # posix_spawn has no working directory: git takes `-C` instead.
        if cwd is not None:
            if argv[0] != "git":
                raise ValueError("only git can be started in another directory")
            argv = [argv[0], "-C", os.fspath(cwd), *argv[1:]]
        self.argv = argv
        read_end, write_end = os.pipe()
        try:
            self.pid = os.posix_spawnp(
                argv[0],
                argv,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, write_end, 1),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                ],
                setsigdef=(_SIGPIPE,),
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self._read_end = read_end
        # The exit code, once `output()` has waited for it.
        self.returncode: int | None = None

    def output(self) -> tuple[int, bytes]:
        """Waits for the command; returns its exit code and everything it wrote."""
        chunks = []
        try:
            while chunk := os.read(self._read_end, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(self._read_end)
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode, b"".join(chunks)

    def kill(self) -> None:
        """Stops the command if it has not been waited for, and reaps it."""
        if self.returncode is None:
            os.kill(self.pid, _SIGKILL)
            self.output()

    def checked_output(self) -> bytes:
        """What the command wrote; `SpawnError` if it did not exit 0."""
        code, out = self.output()
        if code != 0:
            raise SpawnError(self.argv, code, out)
        return out
