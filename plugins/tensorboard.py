"""``tensorboard``: TensorBoard logs of a training run, a built-in callback plugin.

``zoo train NAME --tensorboard`` adds ``keras.callbacks.TensorBoard`` writing to ``RUN/logs`` (per-epoch loss and
metrics for training and validation), so the logs end up inside the finished run:
``tensorboard --logdir runs/NAME/logs`` (``pip install "keras-zoo[tensorboard]"`` for the viewer). It registers
through the same hook as any third-party callback plugin.
"""

import zoo

LOG_DIR = "logs"  # inside the run directory


def make_callback(context: zoo.CallbackContext):
    """A TensorBoard callback for this run; nothing on a non-chief worker (the chief writes the logs)."""
    if not context.is_chief:
        return None
    import keras  # imported here, never at module level, so `zoo list` stays instant

    return keras.callbacks.TensorBoard(log_dir=str(context.run_dir / LOG_DIR))


@zoo.hookimpl
def register_callbacks(register):
    register("tensorboard", make_callback, help=f"write TensorBoard logs (loss and metrics per epoch) to RUN/{LOG_DIR}")
