"""``bilstm``: Embedding -> Bidirectional(LSTM) -> Dense softmax.

With the reference design's defaults (vocab_size 5000, embed_dim 64, seq_len 150, units 64, adam) and 6 classes
it has 386,822 parameters. The catalog raises Adam's learning rate to 3e-3 (see registry.yaml).
"""

import zoo


def build(num_classes: int, hp: zoo.Hyperparameters):
    """Build the uncompiled model; the zoo checks the head and compiles it."""
    import keras

    # inputs
    inputs, x = zoo.sequence_inputs(hp)
    # recurrent body: forward and backward LSTMs, final states concatenated (2 * units features)
    x = keras.layers.Bidirectional(keras.layers.LSTM(hp.units), name="bilstm")(x)
    # head
    outputs = zoo.softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name="bilstm")


@zoo.hookimpl
def register_architectures(register):
    register("bilstm", build, catalog=zoo.BUILTIN_CATALOG)
