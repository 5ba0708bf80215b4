"""``lstm``: the reference design's basic model, Embedding -> LSTM -> Dense softmax.

With its defaults (vocab_size 10000, embed_dim 64, seq_len 100, units 128, adam) and 6 classes it has
739,590 parameters, like the reference Keras code. The catalog raises Adam's learning rate to 3e-3 (see
registry.yaml).
"""

import zoo


def build(num_classes: int, hp: zoo.Hyperparameters):
    """Build the uncompiled model; the zoo checks the head and compiles it."""
    import keras

    # inputs: token ids through a masked Embedding, or masked float features
    inputs, x = zoo.sequence_inputs(hp)
    # recurrent body: default activations, no recurrent dropout, no unroll -> cuDNN-eligible on a GPU
    x = keras.layers.LSTM(hp.units, name="lstm")(x)
    # head
    outputs = zoo.softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name="lstm")


@zoo.hookimpl
def register_architectures(register):
    register("lstm", build, catalog=zoo.BUILTIN_CATALOG)
