"""Cases found by running random sequences of data commands on one repository, each
step done by mlvc or DVC, next to a twin repository where DVC does every step."""

from __future__ import annotations

from tests.interop.conftest import Pair, same_status, snapshot, write


def test_checkout_keeps_a_file_added_inside_a_tracked_directory(pair: Pair) -> None:
    """A file added on its own inside a tracked directory, then a checkout without
    targets of several outputs: the file stays, as the directory records it."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    for tool, root in ((mlvc, ours), (dvc, theirs)):
        write(root, {"e/q": "1\n", "a": "a\n"})
        dvc("add", "-q", "e", "a", cwd=root)
        (root / "e" / "q").unlink()
        write(root, {"e/q": "2\n"})
        tool("add", "-q", "e/q", cwd=root)
        tool("checkout", cwd=root)
    assert (ours / "e" / "q").read_text() == (theirs / "e" / "q").read_text() == "2\n"
    mine, their = snapshot(ours), snapshot(theirs)
    assert {k: v for k, v in mine.items() if not k.startswith(".dvc/")} == {
        k: v for k, v in their.items() if not k.startswith(".dvc/")
    }
    same_status(pair)
