"""The contract every architecture meets, checked cheaply on each build.

A built model has one output of shape ``(batch, num_classes)``, produced by a softmax layer, in float32. The
full behavioural suite (probabilities, training, saving, masking) lives in :mod:`zoo.testing`.
"""

from __future__ import annotations

import numbers
from typing import Any

from .errors import ContractError, ZooError

# The contract suite's checks, in the order they run; zoo.testing implements each as ``check_NAME``. Kept here,
# in a module that imports nothing heavy, so that reading a catalog (which validates waivers) never imports the suite.
CHECKS = ("softmax_head", "mixed_precision", "train_categorical", "train_sparse", "save_load", "batch_sizes",
          "input_modes", "variable_length", "lazy_import", "invalid_num_classes", "cudnn_eligible")
ONCE = ("lazy_import", "invalid_num_classes", "cudnn_eligible")  # once per architecture, not per class count
UNWAIVABLE = ("softmax_head",)  # a catalog may waive any other check, with a written reason


def check_num_classes(num_classes: Any) -> int:
    """Return ``num_classes`` if it is an int >= 2, else raise :class:`ZooError`.

    >>> check_num_classes(6)
    6
    >>> check_num_classes(1)
    Traceback (most recent call last):
    ...
    zoo.errors.ZooError: num_classes must be an integer >= 2 (a softmax over one class is always 1.0), got 1.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise ZooError(f"num_classes must be an integer >= 2, got {type(num_classes).__name__} {num_classes!r}.")
    num_classes = int(num_classes)  # numpy integers are fine
    if num_classes < 2:
        raise ZooError(f"num_classes must be an integer >= 2 (a softmax over one class is always 1.0), "
                       f"got {num_classes}.")
    return num_classes


def _softmax_axes(layer: Any) -> tuple[int, ...] | None:
    """The axes the layer's softmax normalizes over, read from its config; None when the layer is no softmax."""
    import keras

    if isinstance(layer, keras.layers.Softmax):
        axis = layer.get_config().get("axis", -1)
        return tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    activation = getattr(layer, "activation", None)  # Dense or Activation with activation="softmax"
    if getattr(activation, "__name__", None) == "softmax":
        return (-1,)  # keras.activations.softmax, given by name, always normalizes over the last axis
    return None


def check_head(model: Any, num_classes: int, who: str) -> None:
    """Raise :class:`ContractError` unless ``model`` ends in a float32 softmax over ``num_classes`` units.

    Cheap enough for every build: it reads the output's shape and dtype and the last layer's config, and runs
    nothing. The behavioural checks (rows are probabilities) are in :mod:`zoo.testing`.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise ContractError(f"{who}: build() must return a keras.Model, got {type(model).__name__}.")
    outputs = getattr(model, "outputs", None)
    if not outputs:
        raise ContractError(f"{who}: build() must return a functional or Sequential keras.Model whose output is "
                            "known before training (subclassed models cannot be checked).")
    if len(outputs) != 1:
        raise ContractError(f"{who}: the model has {len(outputs)} outputs; the contract is one softmax output.")
    out = outputs[0]
    shape = tuple(out.shape)
    if len(shape) != 2 or shape[-1] != num_classes:
        raise ContractError(f"{who}: output shape is {shape}; the contract is (batch, {num_classes}) for "
                            f"num_classes={num_classes}.")
    if str(out.dtype) != "float32":
        raise ContractError(f"{who}: output dtype is {out.dtype}; the head must compute in float32 "
                            "(use zoo.softmax_head, or dtype='float32' on the last layer).")
    layer = out._keras_history[0]  # the layer that produced the output tensor
    axes = _softmax_axes(layer)
    if axes is None:
        raise ContractError(f"{who}: the final layer '{layer.name}' ({type(layer).__name__}) is not a softmax; "
                            "end the model with zoo.softmax_head(x, num_classes).")
    if len(axes) != 1 or axes[0] not in (-1, 1):  # the output is (batch, num_classes): the class axis is -1 or 1
        shown = axes[0] if len(axes) == 1 else list(axes)
        raise ContractError(f"{who}: the final layer '{layer.name}' ({type(layer).__name__}) normalizes over axis "
                            f"{shown}; the contract is a softmax over the class axis (-1), so that each row sums "
                            "to 1: end the model with zoo.softmax_head(x, num_classes).")
