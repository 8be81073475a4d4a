"""Log this step's run to the team's MLflow tracking server, when the team has one.

The pipeline sets MLFLOW_TRACKING_SERVER_PARAMETER (the SSM parameter holding the server's ARN),
MLFLOW_EXPERIMENT_NAME (``<team>-<project>``) and MLFLOW_RUN_NAME (the pipeline execution) when
the team has the mlflow feature. The ARN is the tracking URI of the ``sagemaker-mlflow`` plugin,
which signs the calls with the job's role; they go through the VPC's experiments endpoint.
``mlflow`` and ``sagemaker-mlflow`` come from the organisation's CodeArtifact mirror of PyPI into a
custom image of the step (tested names: mlflow 3.18.0, sagemaker-mlflow 0.5.0): the AWS-provided
images have neither, so without them, as without the parameter, the step says so and goes on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def log_run(params: Mapping[str, object], metrics: Mapping[str, float]) -> str | None:
    """The MLflow run id, or None when the run is not tracked (and why, printed)."""
    parameter = os.environ.get("MLFLOW_TRACKING_SERVER_PARAMETER")
    if not parameter:
        print("mlflow: the team has no tracking server; run not tracked")
        return None
    try:
        import mlflow
        import sagemaker_mlflow  # noqa: F401  (the plugin that resolves the ARN tracking URI)
    except ImportError:
        print("mlflow: mlflow and sagemaker-mlflow are not in this image; run not tracked")
        return None
    import boto3

    mlflow.set_tracking_uri(boto3.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"])
    mlflow.set_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"])
    with mlflow.start_run(run_name=os.environ.get("MLFLOW_RUN_NAME")) as run:
        mlflow.log_params(dict(params))
        mlflow.log_metrics(dict(metrics))
        return run.info.run_id
