"""Building blocks for architecture plugins: the sequence inputs, mask-aware layers, and the softmax head.

Plugins call these so that every architecture accepts both input modes, keeps padding masked end to end, and ends
in the same float32 softmax head. Keras is imported inside each function, never at module level; the layer
classes (``zoo.layers.MaskedConv1D``, ...) are loaded from :mod:`zoo.keras_layers` on first access.

Mask-aware layers, for the parts of a network around or between recurrences (Keras's own ``Conv1D`` and
``GlobalMaxPooling1D`` drop the mask, with a "will destroy the mask information" warning):

- ``MaskedConv1D(filters, kernel_size, padding="same"|"causal"|"valid", ...)``: a stride-1 convolution that zeroes
  padded steps and passes the mask on (shrunk for ``"valid"``).
- ``MaskedGlobalAveragePooling1D()``, ``MaskedGlobalMaxPooling1D()``: pooling over the real steps only.
- ``AttentionPooling1D(units=None)``: a learned weighted sum of the steps, padding weighted exactly zero.

Models using them save and load in safe mode: the classes are registered with Keras as ``zoo>NAME``, and
:func:`custom_objects` gives them by name for ``keras.saving.load_model(..., custom_objects=...)``.
"""

from __future__ import annotations

from typing import Any

from .hyperparameters import Hyperparameters

LAYERS = ("MaskedConv1D", "MaskedGlobalAveragePooling1D", "MaskedGlobalMaxPooling1D", "AttentionPooling1D")


def __getattr__(name: str) -> Any:
    """PEP 562: the layer classes are imported (with Keras) only when first asked for."""
    if name in LAYERS:
        from . import keras_layers

        return getattr(keras_layers, name)
    raise AttributeError(f"module 'zoo.layers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *LAYERS])


def custom_objects() -> dict[str, type]:
    """The zoo's layer classes by the name Keras saves them under, for ``load_model(..., custom_objects=...)``.

    The classes register themselves with Keras when first imported, so this also makes sure they are; a plugin
    never needs to declare them in its catalog's ``custom_objects``.

    >>> sorted(custom_objects())  # doctest: +NORMALIZE_WHITESPACE
    ['zoo>AttentionPooling1D', 'zoo>Center', 'zoo>Fold', 'zoo>MaskedConv1D', 'zoo>MaskedGlobalAveragePooling1D',
     'zoo>MaskedGlobalMaxPooling1D', 'zoo>Standardize']
    """
    from . import keras_layers

    return {keras_layers.keras.saving.get_registered_name(cls): cls for cls in keras_layers.LAYERS}


class SequenceInputs(tuple):
    """What :func:`sequence_inputs` returns: the pair ``(inputs, x)``, plus ``.mask``.

    ``inputs, x = zoo.sequence_inputs(hp)`` works as it always has. ``.mask`` is the padding mask of ``x``, a
    boolean ``(batch, steps)`` tensor (True on real steps), for layers or computations that need it explicitly:
    ``keras.layers.LSTM(units)(x, mask=seq.mask)``. Layers that support masking receive it anyway, through Keras's
    own mask propagation.
    """

    def __new__(cls, inputs: Any, x: Any, mask: Any) -> "SequenceInputs":
        self = super().__new__(cls, (inputs, x))
        self.mask = mask
        return self

    @property
    def inputs(self) -> Any:
        """The model's ``keras.Input``."""
        return self[0]

    @property
    def x(self) -> Any:
        """The masked sequence the network reads: ``(batch, steps, embed_dim or num_features)``."""
        return self[1]


def sequence_inputs(hp: Hyperparameters) -> SequenceInputs:
    """Return ``(inputs, x)``: the model's ``keras.Input`` and the masked sequence the recurrent body reads.

    With ``hp.input == "tokens"`` the input is integer ids of shape ``(batch, seq_len)`` fed to an Embedding
    with ``mask_zero=True`` (id 0 is padding); with ``"features"`` it is float vectors of shape
    ``(batch, seq_len, num_features)`` behind a Masking layer (all-zero timesteps are padding).
    ``seq_len=None`` gives a variable-length model. The result also carries the padding mask as ``.mask``
    (see :class:`SequenceInputs`).

    >>> import zoo
    >>> hp = zoo.get("lstm").hyperparameters(input="features", num_features=3, seq_len=None)
    >>> inputs, x = seq = sequence_inputs(hp)
    >>> tuple(inputs.shape), tuple(x.shape), tuple(seq.mask.shape), seq.mask.dtype
    ((None, None, 3), (None, None, 3), (None, None), 'bool')
    """
    import keras

    if hp.input == "tokens":
        inputs = keras.Input(shape=(hp.seq_len,), dtype="int32", name="tokens")
        # mask_zero: padded positions (id 0, at the end) are skipped by the recurrent layers
        masking = keras.layers.Embedding(hp.vocab_size, hp.embed_dim, mask_zero=True, name="embedding")
    else:
        inputs = keras.Input(shape=(hp.seq_len, hp.num_features), dtype="float32", name="features")
        masking = keras.layers.Masking(mask_value=0.0, name="masking")
    # compute_mask is the layers' public way to the mask Keras attaches to x
    return SequenceInputs(inputs, masking(inputs), masking.compute_mask(inputs))


def softmax_head(x: Any, num_classes: int) -> Any:
    """The contract's head: ``Dense(num_classes, activation="softmax")`` computing in float32 under any policy.

    >>> import keras
    >>> out = softmax_head(keras.Input(shape=(8,)), 5)
    >>> tuple(out.shape), out.dtype
    ((None, 5), 'float32')
    """
    import keras

    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="softmax")(x)
