"""Run by real DVC's interpreter: prints how DVC resolves the stages of each repository.

Usage: python dvc_pipeline_oracle.py OUT.json ROOT... ; writes one JSON object keyed by ROOT
(to a file: DVC itself prints to stdout).
Each value is {"stages": [...]} or {"error": "<exception type>: <message>"}.
"""

import json
import os
import sys


def _stage(stage, root):
    from dvc.dependency import ParamsDependency

    deps = [d.def_path for d in stage.deps if not isinstance(d, ParamsDependency)]
    params = [[d.def_path, list(d.params)] for d in stage.deps if isinstance(d, ParamsDependency)]
    outs = []
    for o in stage.outs:
        kind = "plots" if o.plot else "metrics" if o.metric else "outs"
        outs.append(
            {
                "path": o.def_path,
                "kind": kind,
                "cache": o.use_cache,
                "persist": o.persist,
                "push": o.can_push,
                "remote": o.remote,
                "desc": o.annot.desc,
                "type": o.annot.type,
                "labels": list(o.annot.labels),
                "meta": o.annot.meta or None,
                "plot": o.plot if isinstance(o.plot, dict) and o.plot else None,
            }
        )
    rel = os.path.relpath(stage.wdir, root).replace(os.sep, "/")
    return {
        "dvcfile": os.path.relpath(stage.path, root).replace(os.sep, "/"),
        "name": stage.name,
        "cmd": stage.cmd,
        "wdir": rel,
        "deps": deps,
        "params": params,
        "outs": outs,
        "frozen": bool(stage.frozen),
        "always_changed": bool(stage.always_changed),
        "desc": stage.desc,
        "meta": stage.meta,
    }


def _top(root):
    from dvc.repo import Repo

    repo = Repo(root)
    try:
        out = {}
        for path, dvcfile in sorted(_dvcfiles(repo, root)):
            out[path] = {
                "params": dvcfile.params,
                "metrics": dvcfile.metrics,
                "plots": dvcfile.plots,
                "artifacts": dvcfile.artifacts,
            }
        return out
    finally:
        repo.close()


def _dvcfiles(repo, root):
    from dvc.dvcfile import load_file

    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".dvc", ".git")]
        if "dvc.yaml" in filenames:
            path = os.path.join(dirpath, "dvc.yaml")
            yield os.path.relpath(path, root), load_file(repo, path)


def resolve(root):
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    if not os.path.isdir(os.path.join(root, ".dvc")):
        Repo.init(root, no_scm=True).close()
    repo = Repo(root)
    try:
        stages = [s for s in repo.index.stages if isinstance(s, PipelineStage)]
        return {"stages": [_stage(s, root) for s in stages], "top": _top(root)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        repo.close()


def main():
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    result = {root: resolve(root) for root in sys.argv[2:]}
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(result, f, default=repr)


if __name__ == "__main__":
    main()
