"""``bilstm``: Embedding -> Bidirectional(LSTM) -> Dense softmax.

With the reference design's defaults (vocab_size 5000, embed_dim 64, seq_len 150, units 64, adam) and 6 classes
it has 386,822 parameters. The catalog raises Adam's learning rate to 3e-3 (see registry.yaml).

``pooling`` chooses what the head sees: ``last`` (the reference design, the default) each direction's final state;
``max`` or ``mean`` the maximum or mean of each feature over the real steps of both directions' outputs (padding
never counts). Pooling adds no parameters. The catalog keeps ``last``; ``zoo train`` chooses ``max`` on long rows
(:func:`zoo.recipe.choose_pooling`), and ``zoo tune`` searches all three.
"""

import zoo


def build(num_classes: int, hp: zoo.Hyperparameters):
    """Build the uncompiled model; the zoo checks the head and compiles it."""
    import keras

    # inputs
    inputs, x = zoo.sequence_inputs(hp)
    # recurrent body: forward and backward LSTMs, 2 * units features per step (or of the final states)
    pooled = hp.pooling != "last"
    x = keras.layers.Bidirectional(keras.layers.LSTM(hp.units, return_sequences=pooled), name="bilstm")(x)
    if hp.pooling == "max":
        x = zoo.layers.MaskedGlobalMaxPooling1D(name="max_pool")(x)
    elif hp.pooling == "mean":
        x = zoo.layers.MaskedGlobalAveragePooling1D(name="mean_pool")(x)
    # head
    outputs = zoo.softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name="bilstm")


@zoo.hookimpl
def register_architectures(register):
    register("bilstm", build, catalog=zoo.BUILTIN_CATALOG)
