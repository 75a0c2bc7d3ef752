"""Pipelines: `dvc.yaml` loading, templating and params (execution comes later).

>>> from mlvc.pipeline import load_pipelines
>>> for stage in load_pipelines(repo):
...     print(stage.addressing, stage.cmd, stage.deps, [o.path for o in stage.outs])

The names below are imported on first use: commands that only need a constant of
`mlvc.pipeline.model` (such as `data status` in a repository without `dvc.yaml`) must
not pay for the loader and templating.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlvc.pipeline.load import load_pipeline_file, load_pipelines, loads_pipeline
    from mlvc.pipeline.model import Out, PipelineFile, Pipelines, Stage
    from mlvc.pipeline.params import ParamsRef, read_params_file, select_params
    from mlvc.pipeline.templating import ParsingConfig

_HOMES = {
    "Out": "model",
    "ParamsRef": "params",
    "ParsingConfig": "templating",
    "PipelineFile": "model",
    "Pipelines": "model",
    "Stage": "model",
    "load_pipeline_file": "load",
    "load_pipelines": "load",
    "loads_pipeline": "load",
    "read_params_file": "params",
    "select_params": "params",
}

__all__ = [
    "Out",
    "ParamsRef",
    "ParsingConfig",
    "PipelineFile",
    "Pipelines",
    "Stage",
    "load_pipeline_file",
    "load_pipelines",
    "loads_pipeline",
    "read_params_file",
    "select_params",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
