"""The Keras layers the zoo puts into saved models; importing this module imports Keras (only lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _import_keras() -> Any:
    import keras

    return keras


keras = _import_keras()
ops = keras.ops


@keras.saving.register_keras_serializable(package="zoo")
class Standardize(keras.layers.Layer):
    """Per-feature standardization that leaves padding alone: ``(x - mean) / std`` on every timestep with a
    non-zero feature, 0 on the all-zero timesteps that are padding, so the network's ``Masking`` still finds it.

    ``mean`` and ``std`` (one value per feature) become non-trainable weights, saved with the model.
    """

    def __init__(self, mean: Any = None, std: Any = None, num_features: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._initial = (None if mean is None else np.asarray(mean, "float32").ravel(),
                         None if std is None else np.asarray(std, "float32").ravel())
        self.num_features = int(num_features if num_features is not None else len(self._initial[0]))
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        mean, std = self._initial
        self.mean = self.add_weight(name="mean", shape=(self.num_features,), trainable=False,
                                    initializer="zeros" if mean is None else keras.initializers.Constant(mean))
        self.std = self.add_weight(name="std", shape=(self.num_features,), trainable=False,
                                   initializer="ones" if std is None else keras.initializers.Constant(std))

    def call(self, x: Any) -> Any:
        real = ops.any(ops.not_equal(x, 0), axis=-1, keepdims=True)
        return ops.where(real, (x - self.mean) / self.std, ops.zeros_like(x))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_features": self.num_features}
