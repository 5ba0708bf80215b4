"""The training loop's parts: the batches of each epoch, and the per-epoch bookkeeping (checkpoint, early
stopping, learning-rate decay on a plateau) that lets a run stop and resume.

Which rows form each batch, in which order, and which tokens word dropout replaces are drawn from a NumPy
generator seeded with ``(seed, epoch)``: an epoch's batches depend on nothing else, so a run resumed after any
epoch sees exactly the batches the uninterrupted run saw.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from .data import bucket_width, token_lengths

BUCKET_POOL = 16  # batches per sorted pool: rows of similar length end up together, the order stays random


def token_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                  pool: int = BUCKET_POOL) -> list[np.ndarray]:
    """One epoch's batches of row indices, grouped by the rows' ``lengths``: shuffle, sort each pool of ``pool``
    batches by length, cut it into batches, shuffle the batch order. Rows of a batch then have similar lengths, so
    cutting the batch to its longest row (rounded up to 8) skips most of the padding the recurrence would step
    over.

    >>> batches = token_batches(np.array([5, 1, 9, 2]), 2, np.random.default_rng(0))
    >>> sorted(sorted(b.tolist()) for b in batches)
    [[0, 2], [1, 3]]
    """
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start:start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


class EpochBatches:
    """The training batches, one pass per epoch, as NumPy arrays or a ``tf.data`` pipeline for ``fit``.

    ``bucket``: batches of similar-length rows, each cut to its longest row, so the network must take any length;
    ``lengths`` are the rows' lengths before padding (default: token ids' :func:`zoo.data.token_lengths`).
    ``token_dropout``: each epoch that fraction of the real tokens becomes the out-of-vocabulary id 1 (word
    dropout: the model cannot lean on single words). ``seed`` None draws a fresh order every run.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None, bucket: bool = False,
                 token_dropout: float = 0.0, passes: int = 1, lengths: np.ndarray | None = None):
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.seed = seed
        self.bucket = bucket
        self.token_dropout = token_dropout
        self.passes = passes  # passes over the data per epoch (a small data set: several)
        self.lengths = (token_lengths(x) if lengths is None else np.asarray(lengths)) if bucket else None
        self.next_epoch = 0  # the epoch the tf.data pipeline produces next

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size) * self.passes

    def epoch(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The batches of ``epoch`` (0-based), always the same for a given seed."""
        rng = np.random.default_rng(None if self.seed is None else [self.seed, epoch])
        index = []
        for _ in range(self.passes):
            if self.bucket:
                index += token_batches(self.lengths, self.batch_size, rng)
            else:
                order = rng.permutation(len(self.x))
                index += [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for idx in index:
            xb = self.x[idx]
            if self.bucket:
                xb = xb[:, :bucket_width(self.lengths[idx].max(), self.x.shape[1])]
            if self.token_dropout > 0:
                hit = rng.random(xb.shape) < self.token_dropout
                xb = np.where(hit & (xb > 1), 1, xb)  # 0 is padding, 1 the unknown-word id
            yield xb, self.y[idx]

    def _generate(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        epoch = self.next_epoch
        self.next_epoch += 1
        yield from self.epoch(epoch)

    def dataset(self, first_epoch: int = 0) -> Any:
        """A ``tf.data.Dataset`` that yields epoch ``first_epoch``'s batches on its first pass, the next epoch's on
        its second, and so on (Keras's ``fit`` makes one pass per epoch)."""
        import tensorflow as tf

        self.next_epoch = first_epoch
        x_spec = tf.TensorSpec((None, *([None] if self.bucket else [self.x.shape[1]]), *self.x.shape[2:]),
                               tf.as_dtype(self.x.dtype))
        ds = tf.data.Dataset.from_generator(self._generate, output_signature=(
            x_spec, tf.TensorSpec((None, *self.y.shape[1:]), tf.as_dtype(self.y.dtype))))
        ds = ds.apply(tf.data.experimental.assert_cardinality(len(self)))
        options = tf.data.Options()
        # a generator has no files to split between workers: each worker takes its share of the batches
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.with_options(options).prefetch(tf.data.AUTOTUNE)


def _inner(model: Any) -> Any:
    return getattr(model.optimizer, "inner_optimizer", model.optimizer)  # the one inside a LossScaleOptimizer


def _keeps_average(model: Any) -> bool:
    """Whether the model's optimizer keeps a moving average of the weights (``use_ema=True``)."""
    return bool(getattr(_inner(model), "use_ema", False))


def _averages(model: Any) -> list[tuple[Any, Any]]:
    """(weight, moving average) pairs of an optimizer built with ``use_ema=True`` (empty without one)."""
    optimizer = _inner(model)
    if not _keeps_average(model) or not hasattr(optimizer, "_model_variables_moving_average"):
        return []
    return list(zip(optimizer._trainable_variables, optimizer._model_variables_moving_average))


def _swap_averages(model: Any) -> None:
    for var, average in _averages(model):
        value = np.array(var.numpy())
        var.assign(average)
        average.assign(value)


@contextlib.contextmanager
def averaged_weights(model: Any) -> Iterator[None]:
    """The optimizer's moving average of the weights in place of the weights for the block (no-op without one);
    both are swapped back exactly afterwards."""
    _swap_averages(model)
    try:
        yield
    finally:
        _swap_averages(model)


def reset_averages(model: Any) -> None:
    """Restart the moving average from the current weights (after going back to the best weights)."""
    for var, average in _averages(model):
        average.assign(var)


class EpochLoop:
    """Per-epoch bookkeeping that survives an interruption: history, the best validation loss and its weights,
    early stopping after ``patience`` epochs without improvement (None: no validation, no early stopping, the last
    weights are kept), and on a plateau a return to the best weights with the learning rate scaled by ``lr_decay``
    (1 = off), at most ``max_decays`` times. Each epoch ends with a checkpoint in ``run_dir``. When the optimizer
    keeps a moving average of the weights (``use_ema``), validation scores it, and the best weights saved (and the
    run's final weights) are the average's.
    """

    def __init__(self, model: Any, run_dir: Any, patience: int | None, lr_decay: float = 1.0, max_decays: int = 3,
                 warmup_steps: int = 0):
        self.model = model
        self.averaged = _keeps_average(model)
        self.run_dir = run_dir
        self.patience = patience
        self.lr_decay = lr_decay
        self.max_decays = max_decays
        self.warmup_steps = warmup_steps  # a rate held in a variable: ramp it up linearly over these first steps
        schedule = not hasattr(model.optimizer.learning_rate, "assign")  # a LearningRateSchedule sets it itself
        self.peak = None if schedule else float(np.asarray(model.optimizer.learning_rate))
        self.state: dict[str, Any] = {"epoch": 0, "history": {}, "best": None, "best_epoch": None, "wait": 0,
                                      "lr_scale": 1.0, "decays": 0}

    @property
    def stopped(self) -> bool:
        return self.patience is not None and self.state["wait"] >= self.patience

    def resume(self) -> int:
        """Restore the latest checkpoint, if any; the number of epochs already done."""
        state = self.run_dir.load_checkpoint(self.model)
        if state is not None:
            self.state = state
            if self.peak is not None:
                # weights files carry the optimizer's learning rate too: set it from the peak rate and the scale
                self.model.optimizer.learning_rate.assign(self.peak * self.state["lr_scale"])
        return int(self.state["epoch"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        s = self.state
        for k, v in (logs or {}).items():
            s["history"].setdefault(k, []).append(float(v))
        # without validation data nothing is judged: the latest weights are the best
        loss = float((logs or {}).get("val_loss", -epoch)) if self.patience is not None else -epoch
        improved = s["best"] is None or loss < s["best"]
        if improved:
            s["best"], s["best_epoch"], s["wait"] = loss, epoch + 1, 0
        else:
            s["wait"] += 1
            if self.lr_decay < 1.0 and s["wait"] < self.patience and s.get("decays", 0) < self.max_decays:
                # a plateau: go back to the best weights and take smaller steps from there (a bounded number of
                # times, so the rate never decays to a standstill on validation noise)
                self.model.load_weights(self.run_dir.best_weights())
                reset_averages(self.model)
                s["lr_scale"] *= self.lr_decay
                s["decays"] = s.get("decays", 0) + 1
                self.model.optimizer.learning_rate.assign(self.peak * s["lr_scale"])
        s["epoch"] = epoch + 1
        self.run_dir.save_checkpoint(self.model, s, improved,
                                     best=averaged_weights if self.averaged else None)
        if self.stopped:
            self.model.stop_training = True

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        step = int(self.model.optimizer.iterations.numpy())
        if step <= self.warmup_steps and self.peak is not None:
            self.model.optimizer.learning_rate.assign(self.peak * self.state["lr_scale"] * (step + 1) /
                                                      (self.warmup_steps + 1))

    def restore_best(self, logs: dict | None = None) -> None:
        """Load the best weights seen (the end of a run, stopped early or not)."""
        best = self.run_dir.best_weights()
        if best is not None:
            self.model.load_weights(best)

    def callback(self) -> Any:
        import keras

        hooks = {"on_train_batch_begin": self.on_train_batch_begin} if self.warmup_steps else {}
        if self.averaged:  # validation scores the moving average
            hooks.update(on_test_begin=lambda logs=None: _swap_averages(self.model),
                         on_test_end=lambda logs=None: _swap_averages(self.model))
        return keras.callbacks.LambdaCallback(on_epoch_end=self.on_epoch_end, on_train_end=self.restore_best,
                                              **hooks)


def per_example_loss(network: Any) -> Any:
    """The compiled loss of ``network`` as a function returning one loss per example: a loss named by a string,
    or a Keras ``Loss`` object (label smoothing) without its reduction."""
    import keras

    loss = network.loss
    if isinstance(loss, keras.losses.Loss):
        return type(loss).from_config({**loss.get_config(), "reduction": None})
    return keras.losses.get(loss)


def _multiworker_step(network: Any, strategy: Any, batch_size: int, class_weight: dict | None) -> Any:
    """One synchronous training step over every worker: returns the summed loss and correct-prediction count."""
    import tensorflow as tf

    loss_fn = per_example_loss(network)
    weights = None if not class_weight else tf.constant(
        [class_weight.get(i, 1.0) for i in range(network.output_shape[-1])], tf.float32)

    def step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            probs = network(x, training=True)
            per_example = loss_fn(y, probs)
            labels = tf.argmax(y, -1) if len(y.shape) > 1 else tf.cast(y, tf.int64)
            if weights is not None:
                per_example *= tf.gather(weights, labels)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch_size)
        grads = tape.gradient(loss, network.trainable_variables)
        network.optimizer.apply_gradients(zip(grads, network.trainable_variables))
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(probs, -1), labels), tf.float32))
        return tf.reduce_sum(per_example), correct, tf.cast(tf.shape(x)[0], tf.float32)

    @tf.function
    def run(x: Any, y: Any) -> Any:
        results = strategy.run(step, args=(x, y))
        return [strategy.reduce("SUM", r, axis=None) for r in results]

    return run


def _evaluate_locally(network: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> tuple[float, float]:
    """Validation loss and accuracy on this worker (every worker holds the same weights and validation data)."""
    loss_fn = per_example_loss(network)
    losses, correct = [], 0
    for start in range(0, len(x), batch_size):
        probs = network(x[start:start + batch_size], training=False)
        yb = y[start:start + batch_size]
        losses.append(np.asarray(loss_fn(yb, probs)))
        labels = yb.argmax(-1) if yb.ndim > 1 else yb
        correct += int((np.asarray(probs).argmax(-1) == labels).sum())
    return float(np.concatenate(losses).mean()), correct / len(x)


def fit_multiworker(network: Any, batches: EpochBatches, validation: tuple | None, epochs: int, initial_epoch: int,
                    callbacks: list, class_weight: dict | None) -> None:
    """Keras's ``fit`` for a MultiWorkerMirroredStrategy, written out: Keras 3's own cannot run under one (it
    reduces each scalar log over axis 0 across workers and fails: tensorflow/tensorflow#72388). Every worker runs
    the same steps in lockstep, gradients are summed across workers, and each worker then computes the same
    validation loss from the same weights, so the callbacks (checkpoints, early stopping) agree everywhere."""
    import keras

    strategy = network.distribute_strategy
    step = _multiworker_step(network, strategy, batches.batch_size, class_weight)
    dataset = strategy.experimental_distribute_dataset(batches.dataset(first_epoch=initial_epoch))
    hooks = keras.callbacks.CallbackList(callbacks, model=network)
    hooks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        hooks.on_epoch_begin(epoch)
        total = correct = count = 0.0
        for i, (x, y) in enumerate(dataset):
            hooks.on_train_batch_begin(i)
            loss_sum, right, rows = step(x, y)
            total, correct, count = total + float(loss_sum), correct + float(right), count + float(rows)
        logs = {"loss": total / max(count, 1), "accuracy": correct / max(count, 1)}
        if validation is not None:
            with averaged_weights(network):  # validation scores the moving average, if the optimizer keeps one
                logs["val_loss"], logs["val_accuracy"] = _evaluate_locally(network, *validation)
        hooks.on_epoch_end(epoch, logs)
        if network.stop_training:
            break
    hooks.on_train_end()


__all__ = ["EpochBatches", "EpochLoop", "fit_multiworker", "token_batches"]
