"""``tensorboard``: TensorBoard logs of a training run, a built-in callback plugin.

``zoo train NAME --tensorboard`` adds ``keras.callbacks.TensorBoard`` writing to ``RUN/logs`` (per-epoch loss and
metrics for training and validation), so the logs end up inside the finished run:
``tensorboard --logdir runs/NAME/logs``. It needs the ``tensorboard`` package (``pip install
"keras-zoo[tensorboard]"``): TensorFlow no longer installs it, and tf.summary writes nothing without it. It
registers through the same hook as any third-party callback plugin.
"""

import zoo

LOG_DIR = "logs"  # inside the run directory


def make_callback(context: zoo.CallbackContext):
    """A TensorBoard callback for this run; nothing on a non-chief worker (the chief writes the logs)."""
    if not context.is_chief:
        return None
    try:  # TensorFlow no longer depends on TensorBoard, whose package implements tf.summary's writers
        import tensorboard  # noqa: F401
    except ImportError:
        raise zoo.ZooError('--tensorboard needs the TensorBoard package: pip install "keras-zoo[tensorboard]" (or '
                           "pip install tensorboard).") from None
    import keras  # imported here, never at module level, so `zoo list` stays instant

    return keras.callbacks.TensorBoard(log_dir=str(context.run_dir / LOG_DIR))


@zoo.hookimpl
def register_callbacks(register):
    register("tensorboard", make_callback, help=f"write TensorBoard logs (loss and metrics per epoch) to RUN/{LOG_DIR}")
