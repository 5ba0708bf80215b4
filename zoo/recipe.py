"""The training recipe ``zoo train`` chooses from the data: each choice a rule, printed as a note, stored in
``config.json``, and overridden by the matching option.

- **Sequence length** (text): the length that covers 99% of the training texts, rounded up to 8, at most
  ``SEQ_LEN_CAP`` tokens; batches are cut to their longest row, so a generous length costs little.
- **Vocabulary** (text): every word seen at least ``MIN_WORD_COUNT`` times in training, at most ``VOCAB_CAP``; a
  word seen once gets the unknown-word id, whose embedding word dropout trains.
- **Standardization** (numbers): each feature shifted and scaled by its training mean and standard deviation,
  padding excluded, inside the saved model (prediction and export take raw units).
- **Budget**: a number of optimizer steps, not epochs, so a small data set gets enough updates: with validation
  data a cap of ``MIN_STEPS`` steps or ``MAX_PASSES`` passes, whichever is more, that early stopping usually ends
  long before; without, the whole run: ``MIN_STEPS`` steps or ``MIN_PASSES`` passes. An epoch (a validation and
  a checkpoint) is at least ``MIN_EPOCH_STEPS`` steps: a small data set is passed over several times per epoch.
- **Validation and early stopping**: with ``SMALL_DATA`` training rows or more and no validation file, a
  stratified ``VAL_FRACTION`` is held out; training stops once validation loss has not improved for
  ``PATIENCE_STEPS`` steps (and at least ``MIN_PATIENCE`` epochs), and the best weights are kept: a run that is
  still improving goes on. Below that, a held-out split is
  too small to judge by, so the run trains on every row for the whole budget.
- **Learning rate** (``--schedule auto``): with validation data, the architecture's rate until validation loss
  stalls, then back to the best weights and the rate times ``--lr-decay``, at most three times (so never below
  2.7% of it, whatever the noise); without, a linear warm-up over ``WARMUP`` of the budget, then a cosine decay
  to ``FLOOR`` of the rate at the end of the budget, which follows the step count alone. Both were measured
  against each other on the panel's validation splits (README, "Accuracy").
- **Memory** (every LSTM and GRU layer; text longer than ``MAX_STEPS`` tokens, or series longer than that
  unfolded): an LSTM's forget-gate biases drawn as log U(1, T - 1) and its input-gate biases as their negatives
  (chrono initialization, Tallec & Ollivier 2018), a GRU's update-gate biases (the gate that keeps its state) drawn
  the same way, T the number of steps the network reads for ``SEQ_LEN_QUANTILE`` of the training rows. Keras's
  constant forget bias of 1 keeps about 73% of a memory per step (a GRU's update bias of 0, half): a few dozen
  steps on, nothing of an early token is left at initialization, so no gradient reaches it and a word far from the
  end of a long text is never learned. On shorter rows it cost accuracy (README, "Accuracy"), so it is left off there.
- **Pooling** (architectures with a ``pooling`` hyperparameter offering ``max``, such as ``bilstm``): the head reads
  each feature's maximum over the steps instead of the final states where the network reads more than
  ``POOL_STEPS`` steps for ``SEQ_LEN_QUANTILE`` of the training rows. Held out, the maximum gained on every panel
  set read over 50 steps or more whose held-out part is large enough to judge (emotion, synth-docs, synth-long)
  and lost or tied on every set read over 26 steps or fewer (README, "Accuracy").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SEQ_LEN_CAP = 512
SEQ_LEN_QUANTILE = 0.99
MIN_WORD_COUNT = 2
VOCAB_CAP = 20_000
RESERVED_IDS = 2  # TextVectorization's padding (0) and unknown-word (1) ids
MIN_STEPS = 1500
MIN_PASSES = 10  # without validation data: the budget is the whole run, at least this many passes
MAX_PASSES = 30  # with validation data: the budget is a cap (early stopping ends the run), at most this many
MIN_EPOCH_STEPS = 32
WARMUP = 0.05
FLOOR = 0.05
PATIENCE_STEPS = 1000  # stop after this many steps (and MIN_PATIENCE epochs) without a better validation loss
MIN_PATIENCE = 3
SMALL_DATA = 1000
MAX_STEPS = 64  # numeric series: fold timesteps so the recurrence steps over at most this many (most rows)
POOL_STEPS = 32  # pool over the steps (pooling=max) where the network reads more than this many (most rows)
VAL_FRACTION = 0.1

_PUNCTUATION = re.compile(rb"[!\"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~']")  # TextVectorization's default strip


def tokens(text: str) -> list[bytes]:
    """A text's tokens, UTF-8 encoded, exactly as TextVectorization's default standardization and split make them:
    TensorFlow lower-cases ASCII letters only (``"Über"`` stays) and splits on ASCII whitespace only (a no-break
    space does not split), as bytes methods do.

    >>> tokens("I'm FINE, Über\xa0alles!")
    [b'im', b'fine', b'\xc3\x9cber\xc2\xa0alles']
    """
    return _PUNCTUATION.sub(b"", text.encode("utf-8").lower()).split()


def words(text: str) -> list[str]:
    """:func:`tokens` as strings: the tokenizer's words, and the terms its vocabulary holds.

    >>> words("I'm FINE, thanks!")
    ['im', 'fine', 'thanks']
    """
    return [t.decode("utf-8") for t in tokens(text)]


def covering_length(lengths: Any, quantile: float = SEQ_LEN_QUANTILE) -> int:
    """The length of the row at ``quantile`` of ``lengths`` (a row's own length, not an interpolation; 0 for
    none): what ``--seq-len`` covers and what the chrono initialization provides memories for.

    >>> covering_length([10] * 199 + [400]), covering_length([])
    (10, 0)
    """
    return int(np.quantile(np.asarray(lengths), quantile, method="higher")) if len(lengths) else 0


def choose_seq_len(lengths: list[int], cap: int = SEQ_LEN_CAP, quantile: float = SEQ_LEN_QUANTILE) -> int:
    """The length covering ``quantile`` of ``lengths``, rounded up to a multiple of 8, at least 8, at most ``cap``.

    >>> choose_seq_len([10] * 98 + [40, 300], cap=150), choose_seq_len(list(range(1, 101)), cap=512)
    (150, 104)
    """
    return min(cap, max(8, int(math.ceil(covering_length(lengths, quantile) / 8) * 8)))


def choose_vocab_size(counts: Counter, min_count: int = MIN_WORD_COUNT, cap: int = VOCAB_CAP) -> int:
    """Token ids for the words seen at least ``min_count`` times (at most ``cap``), plus padding and unknown.

    >>> choose_vocab_size(Counter({"a": 5, "b": 2, "c": 1}))
    4
    """
    kept = sum(1 for n in counts.values() if n >= min_count)
    return min(cap, kept) + RESERVED_IDS


@dataclass(frozen=True)
class Budget:
    """How long a run trains: optimizer steps, epochs of ``steps_per_epoch`` steps, and the patience in epochs."""

    steps: int
    epochs: int
    steps_per_epoch: int
    passes_per_epoch: int
    warmup_steps: int
    patience: int | None  # None: no early stopping (no validation data)


def choose_fold(lengths: list[int], max_steps: int = MAX_STEPS, quantile: float = SEQ_LEN_QUANTILE) -> int:
    """How many consecutive timesteps of a numeric series become one step of the network: the fewest that bring
    the length covering ``quantile`` of the training rows down to ``max_steps``. An LSTM over hundreds of steps
    learns slowly (its gradient crosses every step) and runs slowly; the same series as fewer, wider steps does
    neither, and loses nothing (every value is still an input).

    >>> choose_fold([8] * 100), choose_fold([64] * 100), choose_fold([65] * 100), choose_fold([251] * 36)
    (1, 1, 2, 4)
    """
    longest = int(math.ceil(np.quantile(np.asarray(lengths), quantile))) if len(lengths) else 1
    return max(1, -(-longest // max_steps))


def fold(x: np.ndarray, size: int) -> np.ndarray:
    """Padded features ``(rows, steps, features)`` as ``(rows, ceil(steps / size), size * features)``: every
    ``size`` consecutive steps side by side, the end padded with zero (padding) steps; what the saved model's
    :class:`zoo.keras_layers.Fold` does.

    >>> fold(np.arange(6, dtype="float32").reshape(1, 3, 2), 2).tolist()
    [[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 0.0, 0.0]]]
    """
    if size == 1:
        return x
    rows, steps, width = x.shape
    pad = -steps % size
    x = np.concatenate([x, np.zeros((rows, pad, width), x.dtype)], axis=1) if pad else x
    return x.reshape(rows, (steps + pad) // size, size * width)


def center_scale(seqs: list[np.ndarray]) -> np.ndarray:
    """Per feature, the standard deviation of the training series about their own means (every real step of every
    series): what :func:`center` divides the centred copy by, so it has unit scale however much the series'
    levels vary; a feature constant within every series gets 1.

    >>> center_scale([np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[10.0, 7.0], [12.0, 7.0]])]).tolist()
    [1.0, 1.0]
    """
    deviations = np.concatenate([s - s.mean(axis=0) for s in seqs]).astype("float64")
    std = deviations.std(axis=0)
    return np.where(std > 1e-8, std, 1.0).astype("float32")


def center(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Padded features ``(rows, steps, features)`` with each row's copy minus its own mean (per feature, over its
    real steps) divided by ``scale`` (:func:`center_scale`) beside them: ``(rows, steps, 2 * features)``; padding
    (all-zero steps) stays zero. What the saved model's :class:`zoo.keras_layers.Center` does.

    >>> center(np.array([[[1.0], [3.0], [0.0]]], "float32"), np.array([2.0], "float32")).tolist()
    [[[1.0, -0.5], [3.0, 0.5], [0.0, 0.0]]]
    """
    real = (x != 0).any(axis=2, keepdims=True)
    mean = (x * real).sum(axis=1, keepdims=True) / np.maximum(real.sum(axis=1, keepdims=True), 1)
    return np.concatenate([x, np.where(real, (x - mean) / scale, 0)], axis=2).astype(x.dtype)


def choose_budget(rows: int, batch_size: int, validation: bool, steps: int | None = None,
                  epochs: int | None = None, patience: int | None = None) -> Budget:
    """The step budget for ``rows`` training rows; ``steps``, ``epochs`` and ``patience`` override the rules.

    >>> b = choose_budget(16000, 32, validation=True)
    >>> b.steps, b.epochs, b.steps_per_epoch, b.patience
    (15000, 30, 500, 3)
    >>> b = choose_budget(40, 32, validation=False)
    >>> b.steps, b.epochs, b.passes_per_epoch, b.patience
    (1504, 47, 16, None)
    """
    per_pass = -(-rows // batch_size)
    passes = max(1, -(-MIN_EPOCH_STEPS // per_pass))
    per_epoch = per_pass * passes
    if steps is None:
        steps = max(MIN_STEPS, (MAX_PASSES if validation else MIN_PASSES) * per_pass)
    n_epochs = epochs if epochs is not None else max(1, -(-steps // per_epoch))
    total = min(steps, n_epochs * per_epoch) if epochs is not None else n_epochs * per_epoch
    if patience is None and validation:
        patience = max(MIN_PATIENCE, math.ceil(PATIENCE_STEPS / per_epoch))
    return Budget(total, n_epochs, per_epoch, passes, int(WARMUP * total), patience if validation else None)


def resolve_schedule(schedule: str, validation: bool) -> str:
    """``"auto"``: the plateau rule when there is validation data to judge by, the cosine schedule when not.

    >>> resolve_schedule("auto", True), resolve_schedule("auto", False), resolve_schedule("constant", True)
    ('plateau', 'cosine', 'constant')
    """
    if schedule != "auto":
        return schedule
    return "plateau" if validation else "cosine"


def learning_rate_schedule(peak: float, budget: Budget, schedule: str) -> Any:
    """The optimizer's learning rate: a warm-up and cosine schedule over the budget, or ``peak`` throughout."""
    if schedule != "cosine":
        return peak
    import keras

    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak * FLOOR, decay_steps=max(1, budget.steps - budget.warmup_steps), alpha=FLOOR,
        warmup_target=peak, warmup_steps=budget.warmup_steps)


def feature_statistics(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation over every timestep of every training sequence (no padding is
    counted: the sequences are unpadded); a constant feature gets a scale of 1.

    >>> mean, std = feature_statistics([np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[2.0, 5.0]])])
    >>> mean.tolist(), std.tolist()
    ([2.0, 5.0], [0.8164966106414795, 1.0])
    """
    allsteps = np.concatenate(seqs).astype("float64")
    mean, std = allsteps.mean(axis=0), allsteps.std(axis=0)
    std = np.where(std > 1e-8 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return mean.astype("float32"), std.astype("float32")


def choose_chrono(lengths: np.ndarray, max_steps: int = MAX_STEPS) -> int:
    """The memory span to chrono-initialize for (:func:`covering_length`), or 0 (Keras's biases) when the rows the
    network reads are at most ``max_steps`` long.

    >>> choose_chrono(np.array([56] * 100)), choose_chrono(np.array([150, 300, 448] * 40))
    (0, 448)
    """
    span = covering_length(lengths)
    return span if span > max_steps else 0


def choose_pooling(steps: int, threshold: int = POOL_STEPS) -> str:
    """What the head of an architecture with a ``pooling`` hyperparameter reads: ``"max"`` (each feature's maximum
    over the steps) when the network reads more than ``threshold`` steps for ``SEQ_LEN_QUANTILE`` of the rows,
    else ``"last"`` (the final states).

    >>> choose_pooling(56), choose_pooling(24), choose_pooling(32)
    ('max', 'last', 'last')
    """
    return "max" if steps > threshold else "last"


def chrono_biases(units: int, span: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Forget- and input-gate biases for memories of 1 to ``span`` steps (chrono initialization): a forget bias b
    keeps a memory for about 1 + e^b steps, so b = log U(1, span - 1) spreads the units' memories over the span,
    and the input gate starts as closed as the forget gate is open (-b).

    >>> f, i = chrono_biases(4, 100, np.random.default_rng(0))
    >>> bool((f >= 0).all() and (f <= np.log(99)).all() and (i == -f).all())
    True
    """
    forget = np.log(rng.uniform(1.0, max(2.0, span - 1.0), units)).astype("float32")
    return forget, -forget


@dataclass(frozen=True)
class Recipe:
    """What ``zoo train`` chose from the data, as recorded in ``config.json``."""

    budget: Budget
    schedule: str
    validation: str  # "file" | "split" | "none"
    seq_len: int | None = None
    vocab_size: int | None = None
    standardize: bool = False
    fold: int = 1
    center: bool = False
    chrono: int | None = None  # the span the LSTM and GRU gate biases were drawn for; None: Keras's biases
    embeddings: dict | None = None  # --embeddings: zoo.vectors.Pretrained.summary()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["Budget", "Recipe", "center", "center_scale", "choose_budget", "choose_fold", "choose_seq_len",
           "choose_vocab_size", "choose_chrono", "chrono_biases", "covering_length", "feature_statistics", "fold",
           "learning_rate_schedule", "resolve_schedule", "words"]
