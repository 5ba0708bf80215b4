"""``stacked_lstm``: Embedding -> LSTM(return_sequences) -> Dropout -> ... -> LSTM -> Dense softmax.

``units`` is a list, one LSTM layer per item, with dropout between consecutive layers. With the reference
design's defaults (vocab_size 10000, embed_dim 128, seq_len 200, units [256, 128], dropout 0.2, rmsprop) and
6 classes it has 1,872,134 parameters.
"""

import zoo


def build(num_classes: int, hp: zoo.Hyperparameters):
    """Build the uncompiled model; the zoo checks the head and compiles it."""
    import keras

    # inputs
    inputs, x = zoo.sequence_inputs(hp)
    # recurrent body: every layer but the last returns sequences; dropout sits between layers, not inside
    # them (recurrent_dropout stays 0 so the cuDNN kernel is used on a GPU)
    last = len(hp.units) - 1
    for i, units in enumerate(hp.units):
        x = keras.layers.LSTM(units, return_sequences=i < last, name=f"lstm_{i + 1}")(x)
        if i < last:
            x = keras.layers.Dropout(hp.dropout, name=f"dropout_{i + 1}")(x)
    # head
    outputs = zoo.softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name="stacked_lstm")


@zoo.hookimpl
def register_architectures(register):
    register("stacked_lstm", build, catalog=zoo.BUILTIN_CATALOG)
