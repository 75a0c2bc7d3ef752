"""Random sequences of checkouts, status, commits and adversarial edits that a stale
state database would hide: same-size edits within a timestamp tick, restored mtimes,
replaced inodes, data written through links into the cache.

After every command the test computes the truth itself (the md5 of every workspace
file against the `.dvc` and `.dir` records, read from the cache) and holds mlvc to
it; at checkpoints real DVC, with no state of its own, must agree with mlvc as well.

`MLVC_STATE_SEEDS=300` runs more seeds (the default few keep CI fast);
`MLVC_STATE_SEED=17` runs one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import dvc_executable, run_captured
from tests.interop.conftest import Tools, base_env, write

_ONE = os.environ.get("MLVC_STATE_SEED")
SEEDS = [int(_ONE)] if _ONE else list(range(int(os.environ.get("MLVC_STATE_SEEDS", "3"))))
STEPS = 16
LINK_TYPES = ["copy", "hardlink", "symlink", "reflink,copy"]
DIR, FILE = "data", "single.txt"
OUTS = (DIR, FILE)
# Past the state's racy window (100 ms): a later look may trust what it recorded.
TICK = 0.15
OBJECT_NAME = re.compile(r"^[0-9a-f]{32}(\.dir)?$")
STEP_WEIGHTS = {
    "edit": 40,
    "checkout": 16,
    "rm": 8,
    "status": 14,
    "data_status": 8,
    "commit": 8,
    "add": 6,
}
EDIT_WEIGHTS = {
    "rewrite": 20,  # same size, in place (a linked file is unprotected first)
    "keep_mtime": 20,  # the same, then the old mtime put back: only the ctime moves
    "new_inode": 12,  # same size and mtime, renamed over it
    "reuse_inode": 12,  # same size and mtime, unlinked then created: often the same inode
    "through": 14,  # written through a link: the cache object itself changes
    "touch": 6,
    "grow": 6,
    "new": 5,
    "delete": 5,
}

Result = subprocess.CompletedProcess[str]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def blob(rng: random.Random, size: int) -> bytes:
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))


def other_blob(rng: random.Random, old: bytes) -> bytes:
    """Bytes of the same length as `old`, differing from it."""
    while True:
        new = blob(rng, len(old))
        if new != old:
            return new


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def sort_lists(value: object) -> object:
    """`value` with every list sorted (DVC lists files in a set's order)."""
    if isinstance(value, dict):
        return {k: sort_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((sort_lists(v) for v in value), key=repr)
    return value


@dataclass
class Truth:
    """What each output records and what its workspace holds, by md5."""

    expected: dict[str, dict[str, str]]  # output -> {repo path: md5} it records
    actual: dict[str, dict[str, str] | None]  # output -> {repo path: md5}, None if gone
    corrupt: set[str]  # objects whose bytes are not their name

    def dirty(self, out: str) -> bool:
        return self.actual[out] != self.expected[out]

    def changes(self, kind: str) -> set[str]:
        """The files `modified`, `added` or `deleted` since the records, in all outputs."""
        found: set[str] = set()
        for out in OUTS:
            exp, act = self.expected[out], self.actual[out] or {}
            if kind == "modified":
                found |= {p for p in exp.keys() & act.keys() if exp[p] != act[p]}
            else:
                found |= (act.keys() - exp.keys()) if kind == "added" else (exp.keys() - act.keys())
        return found

    def files(self) -> dict[str, str]:
        return {p: h for out in OUTS for p, h in (self.actual[out] or {}).items()}


class Hunt:
    """One seeded case: a repository, the steps done so far and the checks after each."""

    def __init__(self, tmp: Path, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.link_type = self.rng.choice(LINK_TYPES)
        self.tmp = tmp
        self.env = base_env(tmp)
        self.env["HOME"] = str(tmp / "home")
        self.env["XDG_CONFIG_HOME"] = str(tmp / "home" / ".config")
        self.env["XDG_CACHE_HOME"] = str(tmp / "home" / ".cache")
        self.root = tmp / "repo"
        self.root.mkdir()
        self.log: list[str] = []
        self.dvc_runs = 0

    # Running the tools.

    def run(self, argv: list[str], env: dict[str, str]) -> Result:
        return run_captured(argv, cwd=self.root, env=env)

    def mlvc(self, *args: str, ok: bool = False) -> Result:
        self.log.append("mlvc " + " ".join(args))
        r = self.run([sys.executable, "-m", "mlvc", *args], self.env)
        self.check("unexpected error" not in r.stderr, f"crash\n{r.stderr}")
        if ok:
            self.check(r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def dvc_json(self, *args: str) -> object:
        # A fresh site cache each time: DVC keeps its state there, so it reads every
        # file and is an oracle without memory.
        self.dvc_runs += 1
        env = {**self.env, "DVC_SITE_CACHE_DIR": str(self.tmp / f"dvc-site-{self.dvc_runs}")}
        r = self.run([str(dvc_executable()), *args], env)
        assert r.returncode == 0, f"dvc {' '.join(args)}: {r.stderr}"
        return json.loads(r.stdout)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            steps = "\n  ".join(self.log[-30:])
            pytest.fail(
                f"seed {self.seed} ({self.link_type}): {what}\nlast steps:\n  {steps}",
                pytrace=False,
            )

    # Reading records, the cache and the workspace.

    def obj(self, h: str) -> Path:
        return self.root / ".dvc" / "cache" / "files" / "md5" / h[:2] / h[2:]

    def record(self, out: str) -> str:
        text = (self.root / f"{out}.dvc").read_text()
        found = re.search(r"^- md5: (\S+)$", text, re.M)
        assert found, text
        return found.group(1)

    def manifest(self, dir_hash: str) -> dict[str, str]:
        raw = self.obj(dir_hash).read_bytes()
        self.check(md5(raw) + ".dir" == dir_hash, f"`.dir` object {dir_hash} is not its name")
        return {f"{DIR}/{e['relpath']}": e["md5"] for e in json.loads(raw)}

    def workspace(self, out: str) -> dict[str, str] | None:
        top = self.root / out
        if not top.exists():
            return None
        if top.is_file():
            return {out: md5(top.read_bytes())}
        found = {}
        for dirpath, _dirs, names in os.walk(top):
            for name in names:
                p = Path(dirpath) / name
                found[p.relative_to(self.root).as_posix()] = md5(p.read_bytes())
        return found

    def corrupt_objects(self) -> set[str]:
        bad = set()
        for p in (self.root / ".dvc" / "cache" / "files" / "md5").rglob("*"):
            name = p.parent.name + p.name
            if p.is_file() and OBJECT_NAME.match(name) and md5(p.read_bytes()) != name[:32]:
                bad.add(name)
        return bad

    def truth(self) -> Truth:
        return Truth(
            expected={DIR: self.manifest(self.record(DIR)), FILE: {FILE: self.record(FILE)}},
            actual={out: self.workspace(out) for out in OUTS},
            corrupt=self.corrupt_objects(),
        )

    def files(self) -> list[Path]:
        """The outputs' workspace files (links not followed), in a stable order."""
        found = [self.root / FILE] if os.path.lexists(self.root / FILE) else []
        for dirpath, dirs, names in os.walk(self.root / DIR):
            dirs.sort()
            found.extend(Path(dirpath) / n for n in sorted(names))
        return found

    def subdir(self) -> str:
        subs = sorted({p.parent for p in self.files()} - {self.root, self.root / DIR})
        top = self.rng.choice(subs) if subs else self.root / DIR
        return top.relative_to(self.root).as_posix()

    # The case.

    def setup(self) -> None:
        rng = self.rng
        subprocess.run(["git", "init", "-q"], cwd=self.root, env=self.env, check=True)
        subs = [f"s{i}" for i in range(rng.randint(3, 6))]
        contents: list[bytes] = []
        for i in range(rng.randint(150, 300)):
            rel = Path(DIR, *rng.choices(subs, k=rng.choice([0, 1, 1, 2, 3])), f"f{i}.txt")
            # Some duplicates: files sharing one object (one inode, with hardlinks).
            dup = contents and rng.random() < 0.1
            data = rng.choice(contents) if dup else blob(rng, rng.randint(1, 40))
            contents.append(data)
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_bytes(data)
        (self.root / FILE).write_bytes(blob(rng, 12))
        self.mlvc("init", "-q", ok=True)
        self.mlvc("config", "cache.type", self.link_type, ok=True)
        self.mlvc("add", "-q", DIR, FILE, ok=True)
        self.check_saved(list(OUTS), set())

    def play(self) -> None:
        self.setup()
        # DVC takes most of the time: asked once midway in some cases, and at the end.
        midway = self.rng.randrange(STEPS * 2)
        for i in range(STEPS):
            self.step()
            if i == midway:
                self.checkpoint()
        self.checkpoint()

    # Checks.

    def check_saved(self, outs: list[str], corrupt_before: set[str]) -> None:
        """`add`/`commit` recorded each output's real content, and stored it intact."""
        t = self.truth()
        for out in outs:
            wrong = t.expected[out].items() ^ (t.actual[out] or {}).items()
            self.check(not wrong, f"`{out}` recorded, yet differs: {sorted(wrong)[:6]}")
        made = t.corrupt - corrupt_before
        self.check(not made, f"saved objects that are not their name: {made}")

    def check_status(self) -> object:
        t = self.truth()
        got = json.loads(self.mlvc("status", "--json", ok=True).stdout)
        want = {
            f"{out}.dvc": [
                {"changed outs": {out: "deleted" if t.actual[out] is None else "modified"}}
            ]
            for out in OUTS
            if t.dirty(out)
        }
        self.check(got == want, f"status {got}, truth {want}")
        return got

    def check_data_status(self) -> object:
        t = self.truth()
        got = json.loads(self.mlvc("data", "status", "--granular", "--json", ok=True).stdout)
        uncommitted = got.get("uncommitted", {})
        for kind in ("modified", "added", "deleted"):
            files = {p for p in uncommitted.get(kind, []) if not p.endswith("/")}
            wrong = sorted(files ^ t.changes(kind))
            self.check(not wrong, f"data status: {kind} wrong for {wrong[:8]}")
        return got

    def checkpoint(self) -> None:
        """Real DVC, reading every file, says what mlvc says."""
        status, data_status = self.check_status(), self.check_data_status()
        self.log.append("dvc status; dvc data status --granular")
        theirs = self.dvc_json("status", "--json")
        self.check(status == theirs, f"status: mlvc {status}, dvc {theirs}")
        theirs = self.dvc_json("data", "status", "--granular", "--json")
        same = sort_lists(data_status) == sort_lists(theirs)
        self.check(same, f"data status: mlvc {data_status}, dvc {theirs}")

    # Steps.

    def step(self) -> None:
        rng = self.rng
        kind = pick(rng, STEP_WEIGHTS)
        if kind == "edit":
            for _ in range(rng.randint(1, 3)):
                self.edit()
            if rng.random() < 0.4:
                self.check_status() if rng.random() < 0.6 else self.check_data_status()
        elif kind == "checkout":
            self.checkout()
        elif kind == "rm":
            self.remove()
            self.checkout()
        elif kind == "status":
            self.check_status()
        elif kind == "data_status":
            self.check_data_status()
        else:
            self.save(kind)
        if rng.random() < 0.35:
            self.log.append(f"sleep {TICK}")
            time.sleep(TICK)

    def checkout(self) -> None:
        """A checkout never loses unsaved data without `--force`, and when it succeeds
        its targets hold what they record (or what their damaged object holds)."""
        rng = self.rng
        flags = [f for f in ("--force", "--relink") if rng.random() < 0.3]
        targets = rng.choice([[], [], [DIR], [FILE], [f"{DIR}.dvc"], [self.subdir()]])
        before = self.truth()
        unsaved = {
            p: h
            for p, h in before.files().items()
            if not self.obj(h).exists() or h in before.corrupt
        }
        r = self.mlvc("checkout", "-q", *flags, *targets)
        after = self.truth()
        if "--force" not in flags:
            lost = sorted(p for p, h in unsaved.items() if after.files().get(p) != h)
            self.check(not lost, f"checkout lost unsaved data: {lost}")
        made = after.corrupt - before.corrupt
        self.check(not made, f"checkout changed objects: {made}")
        if r.returncode != 0:
            return
        for out in OUTS:
            if targets and targets[0].split("/")[0].removesuffix(".dvc") != out:
                continue
            within = targets[0] + "/" if targets and "/" in targets[0] else ""
            wrong = sorted(
                p
                for p, h in after.expected[out].items()
                if p.startswith(within)
                and (after.actual[out] or {}).get(p) != h
                and h not in after.corrupt
            )
            self.check(not wrong, f"checkout succeeded, yet these differ: {wrong[:6]}")

    def remove(self) -> None:
        rng = self.rng
        what = rng.choice(["dir", "sub", "files", "file"])
        if what == "dir":
            shutil.rmtree(self.root / DIR, ignore_errors=True)
        elif what == "sub":
            shutil.rmtree(self.root / self.subdir(), ignore_errors=True)
        elif what == "file":
            if os.path.lexists(self.root / FILE):
                os.unlink(self.root / FILE)
        else:
            files = self.files()
            for p in rng.sample(files, min(len(files), rng.randint(1, 5))):
                os.unlink(p)
        self.log.append(f"rm {what}")

    def save(self, kind: str) -> None:
        rng = self.rng
        present = [o for o in OUTS if os.path.exists(self.root / o)]
        if not present:
            return
        targets = [rng.choice(present)]
        if kind == "commit":
            targets = rng.choice([[], present, targets])
        before = self.corrupt_objects()
        if kind == "commit":
            flags = ["--no-relink"] if rng.random() < 0.2 else []
            r = self.mlvc("commit", "-f", "-q", *flags, *targets)
        else:
            r = self.mlvc("add", "-q", *targets)
        if not targets and len(present) < len(OUTS):
            return  # DVC-compat: committing a missing output is an error
        self.check(r.returncode == 0, f"exit {r.returncode}\n{r.stderr}")
        self.check_saved(targets or present, before)

    def edit(self) -> None:
        rng = self.rng
        files = self.files()
        kind = pick(rng, EDIT_WEIGHTS)
        if kind == "new" or not files:
            p = self.root / DIR / rng.choice(["", "s0", "s1/s2"]) / f"n{rng.randrange(10**6)}"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(blob(rng, rng.randint(1, 20)))
            self.log.append(f"new {p.relative_to(self.root)}")
            return
        p = rng.choice(files)
        st = p.stat()
        linked = p.is_symlink() or st.st_nlink > 1
        old = p.read_bytes()
        if kind == "through" and not linked:
            kind = "rewrite"
        self.log.append(f"{kind} {p.relative_to(self.root)} ({'linked' if linked else 'own'})")
        keep_times = (st.st_atime_ns, st.st_mtime_ns)
        if kind == "delete":
            os.unlink(p)
        elif kind == "touch":
            os.utime(p)
        elif kind == "through":
            with open(p, "r+b") as f:
                f.write(other_blob(rng, old))
            if rng.random() < 0.5:
                os.utime(p, ns=keep_times)
        elif kind in ("rewrite", "keep_mtime", "grow"):
            new = old + b"+" if kind == "grow" else other_blob(rng, old)
            if linked:
                os.unlink(p)  # unprotected first: never written into the cache
                p.write_bytes(new)
            else:
                with open(p, "r+b") as f:
                    f.write(new)
            if kind == "keep_mtime":
                os.utime(p, ns=keep_times)
        else:
            new = other_blob(rng, old)
            if kind == "reuse_inode":
                os.unlink(p)
                p.write_bytes(new)
                os.utime(p, ns=keep_times)
            else:
                tmp = p.with_name(p.name + ".tmp")
                tmp.write_bytes(new)
                os.utime(tmp, ns=keep_times)
                os.replace(tmp, p)
            self.log[-1] += f" inode {st.st_ino} -> {p.stat().st_ino}"


@pytest.mark.parametrize("seed", SEEDS)
def test_state_never_trusts_a_changed_file(tmp_path: Path, real_dvc: Path, seed: int) -> None:
    """mlvc's status, data status, commit, add and checkout follow every change a
    random sequence makes, however it hides from the file's timestamps."""
    Hunt(tmp_path, seed).play()


@pytest.mark.parametrize("how", ["rm", "force"])
def test_checkout_of_an_object_written_through_a_symlink_is_not_trusted(
    tools: Tools, how: str
) -> None:
    """A checkout that links an object whose bytes were changed through a symlink
    leaves data that differs from its record: `status` says so, as DVC does when it
    reads the files (its own checkout would have recorded them as their object's
    name, and hidden the change)."""
    mlvc, dvc, _git, root = tools
    mlvc("init", "-q")
    mlvc("config", "cache.type", "symlink")
    write(root, {"d/x": "x\n", "d/y": "y\n", "a": "a\n"})
    mlvc("add", "-q", "d", "a")
    for rel in ("d/x", "a"):
        with open(root / rel, "r+") as f:
            f.write("Z")
    time.sleep(TICK)
    if how == "rm":
        shutil.rmtree(root / "d")
        (root / "a").unlink()
        mlvc("checkout", "-q")
    else:
        mlvc("checkout", "-q", "--force")
    want = {
        "d.dvc": [{"changed outs": {"d": "modified"}}],
        "a.dvc": [{"changed outs": {"a": "modified"}}],
    }
    assert json.loads(dvc("status", "--json").stdout) == want
    assert json.loads(mlvc("status", "--json").stdout) == want
