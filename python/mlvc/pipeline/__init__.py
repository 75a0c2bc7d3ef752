"""Pipelines: `dvc.yaml` loading, templating and params (execution comes later).

>>> from mlvc.pipeline import load_pipelines
>>> for stage in load_pipelines(repo):
...     print(stage.addressing, stage.cmd, stage.deps, [o.path for o in stage.outs])
"""

from __future__ import annotations

from mlvc.pipeline.load import load_pipeline_file, load_pipelines, loads_pipeline
from mlvc.pipeline.model import Out, PipelineFile, Pipelines, Stage
from mlvc.pipeline.params import ParamsRef, read_params_file, select_params
from mlvc.pipeline.templating import ParsingConfig

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
