"""The Keras callback that logs one zoo training run to MLflow. Importing it imports Keras and MLflow."""

import json
import math
import time

import keras
from mlflow.entities import Metric, Param, RunStatus
from mlflow.tracking import MlflowClient

RECORD = "mlflow.json"  # written into the run directory: where the MLflow run is


def _numbers(logs) -> dict:
    """The finite numbers among Keras's epoch logs (NumPy and tensor scalars included), as floats."""
    out = {}
    for key, value in (logs or {}).items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            out[key] = value
    return out


class MlflowLogger(keras.callbacks.Callback):
    """Creates an MLflow run when training begins, logs params once and metrics every epoch, finishes the run.

    Uses the plain tracking client (not ``mlflow.start_run``), so it never touches a run the user has active.
    """

    def __init__(self, client: MlflowClient, experiment_id: str, context):
        super().__init__()
        self.client, self.experiment_id, self.context = client, experiment_id, context
        self.run_id = None

    @classmethod
    def for_run(cls, context, experiment: str) -> "MlflowLogger":
        """Connect to the tracking store now (a wrong URI fails before training, not after), find or create the
        experiment; the MLflow run itself starts with training."""
        client = MlflowClient()  # MLFLOW_TRACKING_URI
        found = client.get_experiment_by_name(experiment)
        return cls(client, found.experiment_id if found else client.create_experiment(experiment), context)

    def on_train_begin(self, logs=None):
        ctx = self.context
        tags = {"zoo.architecture": ctx.architecture, "zoo.run_dir": str(ctx.run_dir)}
        if ctx.seed is not None:
            tags["zoo.seed"] = str(ctx.seed)
        run = self.client.create_run(self.experiment_id, run_name=ctx.run_dir.name, tags=tags)
        self.run_id = run.info.run_id
        hyperparameters = ctx.config.get("hyperparameters", {})
        params = [Param(k, v if isinstance(v, str) else json.dumps(v)) for k, v in sorted(hyperparameters.items())]
        if params:
            self.client.log_batch(self.run_id, params=params)
        ctx.run_dir.mkdir(parents=True, exist_ok=True)
        (ctx.run_dir / RECORD).write_text(json.dumps({
            "tracking_uri": self.client.tracking_uri, "experiment_id": self.experiment_id, "run_id": self.run_id,
        }, indent=2) + "\n", encoding="utf-8")

    def on_epoch_end(self, epoch, logs=None):
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, epoch) for k, v in sorted(_numbers(logs).items())]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def on_train_end(self, logs=None):
        self.client.set_terminated(self.run_id, RunStatus.to_string(RunStatus.FINISHED))
