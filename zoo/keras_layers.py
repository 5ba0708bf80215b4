"""The Keras layers behind :mod:`zoo.layers` (mask-aware blocks for the non-recurrent parts of a plugin's network)
and the zoo's own preprocessing layers in saved models (:class:`Standardize`, :class:`Center`, :class:`Fold`).

Importing this module imports Keras, so nothing imports it at start-up: :mod:`zoo.layers` loads it on the first
use of one of its classes (``zoo.layers.MaskedConv1D``) or of :func:`zoo.layers.custom_objects`. Keras's own
``Conv1D`` and ``GlobalMaxPooling1D`` drop the mask that ``zoo.sequence_inputs`` attaches (Keras warns that they
"will destroy the mask information") and let padding leak into the result; these layers honour it, so a padded
sequence predicts exactly what the same sequence does unpadded. Every class is registered with Keras under the
package ``zoo`` (``"zoo>MaskedConv1D"``), so a saved model loads in safe mode wherever the zoo is installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _import_keras() -> Any:
    # The import lives in a function so that the zoo's module-level import rule (no TensorFlow or Keras when a
    # zoo module is imported at start-up) holds by construction for every module but this one, which only
    # zoo.layers' lazy attributes import.
    import keras

    return keras


keras = _import_keras()
ops = keras.ops
_NEG = -1e9  # a float32 score that softmax turns into exactly 0 (unlike -inf, it cannot make NaN)


def _expand(mask: Any, dtype: Any) -> Any:
    """(batch, steps) mask -> (batch, steps, 1) of 0/1 in ``dtype``, to multiply a sequence with."""
    return ops.expand_dims(ops.cast(mask, dtype), -1)


@keras.saving.register_keras_serializable(package="zoo")
class MaskedConv1D(keras.layers.Conv1D):
    """``Conv1D`` over a masked sequence, with stride 1; the mask goes on to the next layer.

    Padded steps are zeroed before the convolution, so they contribute exactly what the convolution's own zero
    padding would at the end of the unpadded sequence, and zeroed again in the output.

    - ``padding="same"`` (default) or ``"causal"``: one output per step, the mask passes on unchanged.
    - ``padding="valid"``: the sequence shrinks by ``(kernel_size - 1) * dilation_rate`` steps; an output step is
      real only when every input step under its kernel is, and the mask shrinks accordingly.
    """

    def __init__(self, filters: int, kernel_size: Any, padding: str = "same", **kwargs: Any):
        if padding not in ("same", "causal", "valid"):
            raise ValueError(f"MaskedConv1D: padding must be 'same', 'causal' or 'valid', got {padding!r}.")
        strides = kwargs.get("strides", 1)
        if (strides[0] if isinstance(strides, (list, tuple)) else strides) != 1:
            # with a stride, 'same' padding depends on the padded length: a padded row would change its output
            raise ValueError(f"MaskedConv1D: strides must be 1 (got {strides!r}); pool or subsample after it.")
        super().__init__(filters, kernel_size, padding=padding, **kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return super().call(inputs)
        outputs = super().call(inputs * _expand(mask, inputs.dtype))
        return outputs * _expand(self.compute_mask(inputs, mask), outputs.dtype)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or self.padding != "valid":
            return mask
        taps = self.kernel_size[0]
        # count the real steps under each output's kernel taps: a convolution of the mask with ones
        real = ops.conv(_expand(mask, "float32"), ops.ones((taps, 1, 1)), padding="valid",
                        dilation_rate=self.dilation_rate[0])
        return ops.squeeze(real, -1) > taps - 0.5


@keras.saving.register_keras_serializable(package="zoo")
class MaskedGlobalAveragePooling1D(keras.layers.Layer):
    """The mean over the real steps of a masked sequence: ``(batch, steps, features) -> (batch, features)``.

    Padded steps are left out of the sum and of the count; an all-padding row gives zeros, not NaN.
    The sequence collapses, so no mask goes on.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = _expand(mask, inputs.dtype)
        return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="zoo")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """The maximum over the real steps of a masked sequence: ``(batch, steps, features) -> (batch, features)``.

    Padded steps never win the maximum (even where every real value is negative); an all-padding row gives
    zeros. Padded steps must hold finite values (a recurrent layer's zeros do). The sequence collapses, so no mask
    goes on.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return ops.max(inputs, axis=1)
        real = ops.expand_dims(ops.cast(mask, "bool"), -1)
        # padded steps take the row's lowest value, so they never win; not -inf, which exporters that turn `where`
        # into arithmetic (0 * -inf) make NaN
        lowest = ops.min(inputs, axis=1, keepdims=True)
        best = ops.max(ops.where(real, inputs, lowest), axis=1)
        return ops.where(ops.any(real, axis=1), best, ops.zeros_like(best))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="zoo")
class AttentionPooling1D(keras.layers.Layer):
    """Attention pooling over a masked sequence: a learned score per step, softmax over the real steps only,
    then the weighted sum of the steps: ``(batch, steps, features) -> (batch, features)``.

    The score is ``v . tanh(W h + b)`` with ``units`` hidden units (Bahdanau-style), or ``w . h`` with
    ``units=None``. Padded steps get exactly zero weight (softmax of a -1e9 score, computed in float32 under
    mixed precision too), so padding cannot change the result. The sequence collapses, so no mask goes on.
    """

    def __init__(self, units: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape: tuple) -> None:
        features = input_shape[-1]
        if self.units:
            self.kernel = self.add_weight(shape=(features, self.units), initializer="glorot_uniform", name="kernel")
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.score = self.add_weight(shape=(self.units or features, 1), initializer="glorot_uniform", name="score")

    def call(self, inputs: Any, mask: Any = None) -> Any:
        hidden = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias) if self.units else inputs
        scores = ops.cast(ops.squeeze(ops.matmul(hidden, self.score), -1), "float32")
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, _NEG)
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:  # an all-padding row: zero weights, not a uniform average of the padding
            weights = weights * ops.cast(mask, "float32")
        return ops.sum(inputs * ops.expand_dims(ops.cast(weights, inputs.dtype), -1), axis=1)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


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


@keras.saving.register_keras_serializable(package="zoo")
class Center(keras.layers.Layer):
    """Each series beside its copy minus its own mean, divided by ``scale``: ``(batch, steps, features)`` in,
    ``(batch, steps, 2 * features)`` out, the mean taken per row and feature over the real steps (padding, the
    all-zero steps, excluded) and padding left at zero, so the network's ``Masking`` still finds it. ``scale``
    (one value per feature, :func:`zoo.recipe.center_scale`) is a non-trainable weight, saved with the model."""

    def __init__(self, scale: Any = None, num_features: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._initial = None if scale is None else np.asarray(scale, "float32").ravel()
        self.num_features = int(num_features if num_features is not None else len(self._initial))

    def build(self, input_shape: Any) -> None:
        self.scale = self.add_weight(name="scale", shape=(self.num_features,), trainable=False,
                                     initializer="ones" if self._initial is None
                                     else keras.initializers.Constant(self._initial))

    def call(self, x: Any) -> Any:
        real = ops.cast(ops.any(ops.not_equal(x, 0), axis=-1, keepdims=True), x.dtype)
        mean = ops.sum(x * real, axis=1, keepdims=True) / ops.maximum(ops.sum(real, axis=1, keepdims=True), 1.0)
        return ops.concatenate([x, (x - mean) * real / self.scale], axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:2], 2 * input_shape[2])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # the network masks the padding itself

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_features": self.num_features}


@keras.saving.register_keras_serializable(package="zoo")
class Fold(keras.layers.Layer):
    """Every ``size`` consecutive timesteps side by side as one: ``(batch, steps, features)`` in,
    ``(batch, ceil(steps / size), size * features)`` out, the end padded with zero steps (padding). A folded step
    is padding only when all its steps are, so the network's ``Masking`` still finds the padding. The zoo puts it
    in front of the network when it folds a long series (:func:`zoo.recipe.choose_fold`), so the saved model
    takes the series as it was given."""

    def __init__(self, size: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, x: Any) -> Any:
        steps = ops.shape(x)[1]
        x = ops.pad(x, [[0, 0], [0, (self.size - steps % self.size) % self.size], [0, 0]])
        return ops.reshape(x, (ops.shape(x)[0], -1, self.size * x.shape[-1]))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else -(-steps // self.size), self.size * input_shape[2])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # the network masks the folded steps itself

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


# every class a saved zoo model may hold (zoo.layers.custom_objects gives them to load_model)
LAYERS = (MaskedConv1D, MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D, AttentionPooling1D, Standardize,
          Center, Fold)
