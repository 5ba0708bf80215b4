"""Building a compiled model from an architecture: policy, plugin build, contract check, compile."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .contract import check_head, check_num_classes
from .errors import ContractError, PluginError, ZooError
from .hyperparameters import Hyperparameters

if TYPE_CHECKING:
    from .registry import Architecture

LOSSES = {"categorical": "categorical_crossentropy", "sparse": "sparse_categorical_crossentropy"}


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Set Keras's global dtype policy for the duration of a build, then restore it."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_optimizer(hp: Hyperparameters) -> Any:
    import keras

    kwargs = {} if hp.learning_rate is None else {"learning_rate": hp.learning_rate}
    return keras.optimizers.get({"class_name": hp.optimizer, "config": kwargs})


def compile_model(model: Any, hp: Hyperparameters) -> Any:
    """Compile with the contract's loss for the label mode and an accuracy metric."""
    model.compile(optimizer=make_optimizer(hp), loss=LOSSES[hp.labels], metrics=["accuracy"])
    return model


def build_model(arch: "Architecture", num_classes: Any, hp: Hyperparameters) -> Any:
    """Build ``arch`` for ``num_classes`` with validated ``hp``, check the contract, compile."""
    num_classes = check_num_classes(num_classes)
    who = f"plugin '{arch.plugin}' ({arch.package} {arch.version}), architecture '{arch.name}'"
    # "float32" policy is explicit so a user's global mixed policy does not leak into a float32 build
    with dtype_policy(hp.precision):
        try:
            model = arch.builder(num_classes, hp)
        except ZooError:
            raise
        except Exception as e:
            raise PluginError(f"{who}: build failed with {type(e).__name__}: {e}") from e
        check_head(model, num_classes, who)
        return compile_model(model, hp)


__all__ = ["build_model", "compile_model", "dtype_policy", "ContractError"]
