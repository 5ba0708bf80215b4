"""``mlflow``: log a zoo training run to MLflow, a zoo callback plugin.

``zoo train NAME --mlflow`` adds a Keras callback that creates an MLflow run, logs the run's hyperparameters as
params and every epoch's metrics (loss, accuracy, val_loss, ...) with the epoch as the step, and marks the run
finished. It talks to the tracking store named by ``MLFLOW_TRACKING_URI`` (an MLflow server, ``http://HOST:5000``,
or a local store) and files runs under the experiment ``MLFLOW_EXPERIMENT_NAME`` (default ``zoo``).

This module imports neither MLflow nor Keras: the zoo imports every plugin to list it, and listing stays instant.
The callback lives in :mod:`zoo_mlflow.callback`, imported by the factory.
"""

import os

import zoo

EXPERIMENT = "zoo"  # when MLFLOW_EXPERIMENT_NAME is not set


def make_callback(context: zoo.CallbackContext):
    """The MLflow callback for this run; nothing on a non-chief worker (the chief logs the run)."""
    if not context.is_chief:
        return None
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        raise zoo.ZooError("--mlflow needs MLFLOW_TRACKING_URI: an MLflow server (http://HOST:5000) or a local store "
                           "(file:///PATH with MLFLOW_ALLOW_FILE_STORE=true).")
    from .callback import MlflowLogger  # imports MLflow and Keras

    return MlflowLogger.for_run(context, os.environ.get("MLFLOW_EXPERIMENT_NAME", EXPERIMENT))


@zoo.hookimpl
def register_callbacks(register):
    register("mlflow", make_callback, help="log hyperparameters and per-epoch metrics to MLflow (MLFLOW_TRACKING_URI)")
