"""``mlvc hash``: DVC-compatible hashes of files and directories, with throughput."""

import json
import os
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlvc.cli._errors import handled

if TYPE_CHECKING:
    from mlvc.cli import CommandSink


def md5sum_line(digest: str, path: str) -> bytes:
    """Formats one line the way ``md5sum`` does, so ``md5sum -c`` accepts it.

    Like coreutils, a name holding a backslash or newline is escaped and the
    line gets a leading backslash.
    """
    raw = os.fsencode(path)
    if b"\\" in raw or b"\n" in raw:
        raw = raw.replace(b"\\", b"\\\\").replace(b"\n", b"\\n")
        return b"\\" + digest.encode() + b"  " + raw + b"\n"
    return digest.encode() + b"  " + raw + b"\n"


class Algorithm(StrEnum):
    """Hash functions the command offers."""

    md5 = "md5"
    blake3 = "blake3"


def _repo_root_of(path: Path) -> Path | None:
    """The repository holding `path`, or None when it is outside any."""
    from mlvc.repo import NotARepoError, find_root

    start = path if path.is_dir() else path.absolute().parent
    try:
        return find_root(start)
    except NotARepoError:
        return None


def register(app: "CommandSink") -> None:
    """Adds the command to the app."""

    @app.command("hash")
    @handled()
    def hash_command(
        paths: Annotated[
            list[Path], typer.Argument(help="Files or directories to hash.", metavar="PATH")
        ],
        algorithm: Annotated[
            Algorithm, typer.Option("--algorithm", "-a", help="md5 (DVC-compatible) or blake3.")
        ] = Algorithm.md5,
        jobs: Annotated[
            int, typer.Option("--jobs", "-j", help="Worker threads (default: cores).", min=0)
        ] = 0,
        recursive: Annotated[
            bool, typer.Option("--recursive", "-r", help="Also print every file of a directory.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
        no_state: Annotated[
            bool, typer.Option("--no-state", help="Ignore the state cache; rehash everything.")
        ] = False,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="No progress or summary.")
        ] = False,
        verbose: Annotated[
            bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")
        ] = False,
    ) -> None:
        """Print md5sum-style hashes: DVC's `.dir` hash for directories."""
        import mlvc

        algo = algorithm.value
        out = sys.stdout.buffer
        records: list[dict[str, object]] = []
        total_files = total_bytes = from_state = 0
        started = time.perf_counter()
        from mlvc.cli._progress import Meter

        with Meter("hashing", enabled=not quiet) as meter:
            for path in paths:
                root = _repo_root_of(path)
                state = None
                if root is not None and not no_state:
                    state = mlvc.State(root / ".dvc" / "tmp" / "mlvc" / "state.db")
                if path.is_dir():
                    tree = mlvc.hash_tree(
                        path,
                        algorithm=algo,
                        jobs=jobs,
                        ignore_root=root,
                        state=state,
                        progress=meter,
                    )
                    files = tree.files
                    total_files += tree.nfiles
                    total_bytes += tree.size
                    from_state += tree.nfiles - tree.hashed_files
                    if recursive:
                        for f in files:
                            name = os.path.join(os.fspath(path), f.relpath)
                            records.append(
                                {"path": name, "hash": f.hash, "size": f.size, "nfiles": None}
                            )
                            if not as_json:
                                out.write(md5sum_line(f.hash, name))
                    records.append(
                        {
                            "path": os.fspath(path),
                            "hash": tree.hash,
                            "size": tree.size,
                            "nfiles": tree.nfiles,
                        }
                    )
                    if not as_json:
                        out.write(md5sum_line(tree.hash, os.fspath(path)))
                else:
                    (f,) = mlvc.hash_files([path], algorithm=algo, jobs=jobs, state=state)
                    total_files += 1
                    total_bytes += f.size
                    from_state += int(f.from_state)
                    records.append(
                        {"path": os.fspath(path), "hash": f.hash, "size": f.size, "nfiles": None}
                    )
                    if not as_json:
                        out.write(md5sum_line(f.hash, os.fspath(path)))
        elapsed = time.perf_counter() - started
        if as_json:
            # Undecodable names round-trip through surrogate escapes.
            out.write(json.dumps(records, indent=2).encode("utf-8", "surrogateescape") + b"\n")
        out.flush()
        if not quiet:
            rate = total_bytes / elapsed / 1e9 if elapsed > 0 else 0.0
            cached = f", {from_state} from the state cache" if from_state else ""
            print(
                f"hashed {total_files} files, {total_bytes / 2**20:.1f} MiB in {elapsed:.2f} s "
                f"({rate:.2f} GB/s, {algo}{cached})",
                file=sys.stderr,
            )
