"""Building a compiled model from an architecture: policy, plugin build, contract check, compile."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
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


def _plugin_scope(arch: "Architecture") -> str:
    """The plugin's own code: its package directory, or its module file (or the build function's file)."""
    module = sys.modules.get(arch.module.partition(":")[0])
    path = getattr(module, "__file__", None)
    if path is None:  # a module made in memory (tests): the file that defines build()
        path = getattr(getattr(arch.builder, "__code__", None), "co_filename", "")
    elif getattr(module, "__path__", None) is not None:  # a package: every file under it is the plugin's
        path = os.path.dirname(path)
    return os.path.abspath(path) if path else ""


def failure_location(exc: BaseException, arch: "Architecture") -> str:
    """``FILE:LINE`` of the last traceback frame in the plugin's own code (relative to the folder holding it), so
    that a bug in a plugin points at the plugin, not at Keras; ``""`` when no frame is the plugin's."""
    scope = _plugin_scope(arch)
    if not scope:
        return ""
    inside = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(f.filename) == scope or os.path.abspath(f.filename).startswith(scope + os.sep)]
    if not inside:
        return ""
    frame = inside[-1]
    rel = os.path.relpath(os.path.abspath(frame.filename), os.path.dirname(scope))
    return f"{rel.replace(os.sep, '/')}:{frame.lineno}"


def _one_line(text: str, limit: int = 300) -> str:
    """Keras errors span many lines; the CLI shows one."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def build_model(arch: "Architecture", num_classes: Any, hp: Hyperparameters) -> Any:
    """Build ``arch`` for ``num_classes`` with validated ``hp``, check the contract, compile."""
    num_classes = check_num_classes(num_classes)
    who = arch.who
    # "float32" policy is explicit so a user's global mixed policy does not leak into a float32 build
    with dtype_policy(hp.precision):
        try:
            model = arch.builder(num_classes, hp)
        except ZooError:
            raise
        except Exception as e:
            where = failure_location(e, arch)
            raise PluginError(f"{who}: build failed with {type(e).__name__}: {_one_line(str(e)).rstrip('.')}"
                              + (f" ({where})" if where else "")) from e
        check_head(model, num_classes, who)
        return compile_model(model, hp)


__all__ = ["build_model", "compile_model", "dtype_policy", "failure_location", "ContractError"]
