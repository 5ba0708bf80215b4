"""Building blocks shared by architecture plugins: the sequence inputs and the softmax head.

Plugins call these so that every architecture accepts both input modes and ends in the same float32 softmax
head. Keras is imported inside each function, never at module level.
"""

from __future__ import annotations

from typing import Any

from .hyperparameters import Hyperparameters


def sequence_inputs(hp: Hyperparameters) -> tuple[Any, Any]:
    """Return ``(inputs, x)``: the model's ``keras.Input`` and the masked sequence the recurrent body reads.

    With ``hp.input == "tokens"`` the input is integer ids of shape ``(batch, seq_len)`` fed to an Embedding
    with ``mask_zero=True`` (id 0 is padding); with ``"features"`` it is float vectors of shape
    ``(batch, seq_len, num_features)`` behind a Masking layer (all-zero timesteps are padding).
    ``seq_len=None`` gives a variable-length model.

    >>> import zoo
    >>> hp = zoo.get("lstm").hyperparameters(input="features", num_features=3, seq_len=None)
    >>> inputs, x = sequence_inputs(hp)
    >>> tuple(inputs.shape), tuple(x.shape)
    ((None, None, 3), (None, None, 3))
    """
    import keras

    if hp.input == "tokens":
        inputs = keras.Input(shape=(hp.seq_len,), dtype="int32", name="tokens")
        # mask_zero: padded positions (id 0, at the end) are skipped by the recurrent layers
        x = keras.layers.Embedding(hp.vocab_size, hp.embed_dim, mask_zero=True, name="embedding")(inputs)
    else:
        inputs = keras.Input(shape=(hp.seq_len, hp.num_features), dtype="float32", name="features")
        x = keras.layers.Masking(mask_value=0.0, name="masking")(inputs)
    return inputs, x


def softmax_head(x: Any, num_classes: int) -> Any:
    """The contract's head: ``Dense(num_classes, activation="softmax")`` computing in float32 under any policy.

    >>> import keras
    >>> out = softmax_head(keras.Input(shape=(8,)), 5)
    >>> tuple(out.shape), out.dtype
    ((None, 5), 'float32')
    """
    import keras

    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="softmax")(x)
