"""zoo.layers' mask-aware blocks: a padded row predicts what the unpadded row does through each of them, the mask
goes on (or shrinks) as documented, Keras prints no "will destroy the mask information" warning, and models using
them survive a .keras round trip in safe mode, in this process and in a fresh one. The classes load lazily."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import zoo
import zoo.layers

pytestmark = pytest.mark.usefixtures("keras_session")

MASK_WARNING = "destroy the mask information"  # Keras: "... will therefore destroy the mask information."
STEPS, FEATURES = 7, 3


def conv(**kwargs):
    return lambda: zoo.layers.MaskedConv1D(4, 3, **kwargs)


# (name, a factory of the block, whether its output is still a sequence)
BLOCKS = {
    "conv-same": (conv(padding="same"), True),
    "conv-causal": (conv(padding="causal"), True),
    "conv-causal-dilated": (conv(padding="causal", dilation_rate=2), True),
    "conv-valid": (conv(padding="valid"), True),
    "conv-valid-dilated": (conv(padding="valid", dilation_rate=2), True),
    "average": (lambda: zoo.layers.MaskedGlobalAveragePooling1D(), False),
    "max": (lambda: zoo.layers.MaskedGlobalMaxPooling1D(), False),
    "attention": (lambda: zoo.layers.AttentionPooling1D(), False),
    "attention-units": (lambda: zoo.layers.AttentionPooling1D(units=5), False),
}


def model_with(block, sequence, input="features", precision="float32"):
    """features (or tokens) -> masking -> block [-> LSTM, which reads the mask] -> softmax head, variable length."""
    import keras

    from zoo.builder import dtype_policy

    hp = zoo.get("lstm").hyperparameters(input=input, num_features=FEATURES, seq_len=None, vocab_size=30,
                                         embed_dim=FEATURES, precision=precision)
    keras.utils.set_random_seed(0)
    with dtype_policy(precision):
        inputs, x = zoo.sequence_inputs(hp)
        x = block()(x)
        if sequence:  # a recurrence after the block: it must see the block's mask to skip the padding
            x = keras.layers.LSTM(4)(x)
        return keras.Model(inputs, zoo.softmax_head(x, 3))


def padded_batch(lengths, seed=0):
    """Right-padded feature rows, values of both signs (so a padding zero would win a max over negatives)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((len(lengths), max(lengths), FEATURES), "float32")
    for i, n in enumerate(lengths):
        x[i, :n] = rng.normal(size=(n, FEATURES)) - 1.0
    return x


@pytest.mark.parametrize("name", list(BLOCKS))
def test_a_padded_row_predicts_what_the_unpadded_row_does(name):
    block, sequence = BLOCKS[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = model_with(block, sequence)
        x = padded_batch([5, STEPS])
        together = np.asarray(model(x))
        alone = np.asarray(model(x[:1, :5]))
    assert not [w for w in caught if MASK_WARNING in str(w.message)]
    np.testing.assert_allclose(alone[0], together[0], atol=1e-6)
    assert np.abs(together[0] - together[1]).max() > 1e-4  # the rows differ: the model is not constant


def test_the_same_models_with_keras_own_layers_do_leak_padding():
    """The test above can fail: Keras's Conv1D and GlobalMaxPooling1D drop the mask, and padding changes the row."""
    import keras

    for block, sequence in ((lambda: keras.layers.Conv1D(4, 3, padding="same"), True),
                            (lambda: keras.layers.GlobalMaxPooling1D(), False)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = model_with(block, sequence)
            x = padded_batch([5, STEPS])
            assert np.abs(np.asarray(model(x))[0] - np.asarray(model(x[:1, :5]))[0]).max() > 1e-4
        assert [w for w in caught if MASK_WARNING in str(w.message)]


@pytest.mark.parametrize("padding,dilation,expected", [
    ("same", 1, [[1, 1, 1, 1, 1, 0, 0], [1] * 7]),
    ("causal", 2, [[1, 1, 1, 1, 1, 0, 0], [1] * 7]),
    ("valid", 1, [[1, 1, 1, 0, 0], [1] * 5]),  # 3 taps: output t is real when steps t..t+2 are
    ("valid", 2, [[1, 0, 0], [1] * 3]),  # taps t, t+2, t+4
])
def test_the_convolution_keeps_or_shrinks_the_mask(padding, dilation, expected):
    import keras

    layer = zoo.layers.MaskedConv1D(2, 3, padding=padding, dilation_rate=dilation)
    mask = np.array([[1, 1, 1, 1, 1, 0, 0], [1] * 7], bool)
    out_mask = keras.ops.convert_to_numpy(layer.compute_mask(padded_batch([5, 7]), keras.ops.convert_to_tensor(mask)))
    assert out_mask.astype(int).tolist() == expected
    out = keras.ops.convert_to_numpy(layer(padded_batch([5, 7]), mask=keras.ops.convert_to_tensor(mask)))
    assert out.shape == (2, len(expected[0]), 2)
    np.testing.assert_array_equal(out[0][~np.array(expected[0], bool)], 0.0)  # padded steps are zeroed


def test_an_all_padding_row_pools_to_zeros_not_nan():
    import keras

    x = padded_batch([3, 4])
    mask = keras.ops.convert_to_tensor(np.array([[0, 0, 0, 0], [1, 1, 1, 1]], bool))
    for layer in (zoo.layers.MaskedGlobalAveragePooling1D(), zoo.layers.MaskedGlobalMaxPooling1D(),
                  zoo.layers.AttentionPooling1D(units=2)):
        out = keras.ops.convert_to_numpy(layer(x, mask=mask))
        np.testing.assert_array_equal(out[0], 0.0)
        assert np.isfinite(out).all()


def test_pooling_reads_only_the_real_steps():
    import keras

    x = padded_batch([2, 4])
    mask = keras.ops.convert_to_tensor(np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool))
    mean = keras.ops.convert_to_numpy(zoo.layers.MaskedGlobalAveragePooling1D()(x, mask=mask))
    top = keras.ops.convert_to_numpy(zoo.layers.MaskedGlobalMaxPooling1D()(x, mask=mask))
    np.testing.assert_allclose(mean, [x[0, :2].mean(0), x[1].mean(0)], rtol=1e-6)
    np.testing.assert_allclose(top, [x[0, :2].max(0), x[1].max(0)], rtol=1e-6)
    assert (top[0] < 0).any()  # real values are negative here: a padding zero would have won


def test_attention_pooling_is_exact_under_mixed_precision():
    model = model_with(BLOCKS["attention-units"][0], False, precision="mixed_float16")
    x = padded_batch([5, STEPS])
    together, alone = np.asarray(model(x)), np.asarray(model(x[:1, :5]))
    assert together.dtype == np.float32 and np.isfinite(together).all()
    np.testing.assert_allclose(alone[0], together[0], atol=1e-3)


@pytest.mark.parametrize("kwargs,message", [
    ({"padding": "full"}, "MaskedConv1D: padding must be 'same', 'causal' or 'valid', got 'full'."),
    ({"strides": 2}, "MaskedConv1D: strides must be 1 (got 2); pool or subsample after it."),
])
def test_the_convolution_refuses_what_would_depend_on_padding(kwargs, message):
    with pytest.raises(ValueError) as e:
        zoo.layers.MaskedConv1D(4, 3, **kwargs)
    assert str(e.value) == message


# -- the mask of sequence_inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("input", ["tokens", "features"])
def test_sequence_inputs_unpacks_as_before_and_exposes_the_padding_mask(input):
    import keras

    hp = zoo.get("lstm").hyperparameters(input=input, num_features=FEATURES, seq_len=None, vocab_size=30)
    seq = zoo.sequence_inputs(hp)
    inputs, x = seq
    assert (seq.inputs, seq.x, len(seq)) == (inputs, x, 2)
    mask_model = keras.Model(inputs, seq.mask)
    batch = padded_batch([2, 4]) if input == "features" else np.array([[5, 6, 0, 0], [1, 2, 3, 4]], "int32")
    assert np.asarray(mask_model(batch)).tolist() == [[True, True, False, False], [True] * 4]


def test_the_mask_can_be_passed_explicitly_and_the_model_saves(tmp_path):
    """A plugin that needs the mask for its own computation takes seq.mask, never x._keras_mask."""
    import keras

    hp = zoo.get("lstm").hyperparameters(seq_len=None, vocab_size=30, embed_dim=4)
    seq = zoo.sequence_inputs(hp)
    h = keras.layers.GRU(4, return_sequences=True)(seq.x, mask=seq.mask)
    model = keras.Model(seq.inputs, zoo.softmax_head(zoo.layers.AttentionPooling1D()(h, mask=seq.mask), 3))
    x = np.array([[5, 6, 7, 0, 0], [1, 2, 3, 4, 5]], "int32")
    np.testing.assert_allclose(np.asarray(model(x[:1, :3]))[0], np.asarray(model(x))[0], atol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))


# -- saving ------------------------------------------------------------------------------------------------------
def conv_lstm_attention(input="tokens"):
    """Every block in one model: conv (same) -> conv (valid) -> GRU -> attention, and the two poolings beside."""
    import keras

    hp = zoo.get("lstm").hyperparameters(input=input, seq_len=None, vocab_size=30, embed_dim=4)
    keras.utils.set_random_seed(1)
    inputs, x = zoo.sequence_inputs(hp)
    x = zoo.layers.MaskedConv1D(6, 3, activation="relu")(x)
    x = zoo.layers.MaskedConv1D(6, 2, padding="valid", dilation_rate=2)(x)
    h = keras.layers.GRU(5, return_sequences=True)(x)
    pooled = keras.layers.Concatenate()([zoo.layers.AttentionPooling1D(units=3)(h),
                                         zoo.layers.MaskedGlobalAveragePooling1D()(h),
                                         zoo.layers.MaskedGlobalMaxPooling1D()(h)])
    return keras.Model(inputs, zoo.softmax_head(pooled, 4))


def test_a_model_of_every_block_round_trips_in_safe_mode(tmp_path):
    import keras

    model = conv_lstm_attention()
    x = np.array([[3, 4, 5, 6, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]], "int32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert {type(layer).__name__ for layer in loaded.layers} >= {"MaskedConv1D", "AttentionPooling1D",
                                                                 "MaskedGlobalAveragePooling1D",
                                                                 "MaskedGlobalMaxPooling1D"}
    assert loaded.get_layer(index=-5).get_config()["units"] == 3  # AttentionPooling1D keeps its config


LOAD_FRESH = r"""
import json, sys
import keras, numpy as np
import zoo.layers
before = "zoo.keras_layers" in sys.modules
model = keras.saving.load_model(sys.argv[1], safe_mode=True, custom_objects=zoo.layers.custom_objects())
print(json.dumps({"before": before, "p": np.asarray(model(np.load(sys.argv[2]))).tolist()}))
"""


def test_a_saved_model_loads_in_a_fresh_process_with_custom_objects(tmp_path):
    model = conv_lstm_attention()
    x = np.array([[3, 4, 5, 6, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]], "int32")
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", LOAD_FRESH, str(tmp_path / "m.keras"), str(tmp_path / "x.npy")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["before"] is False  # the classes were not loaded until custom_objects() asked for them
    np.testing.assert_allclose(out["p"], np.asarray(model(x)), atol=1e-7)


LAZY = r"""
import json, sys
import zoo, zoo.layers
zoo.list_architectures()
lazy = ["keras" in sys.modules, "zoo.keras_layers" in sys.modules]
cls = zoo.layers.MaskedConv1D
print(json.dumps(lazy + [cls.__name__, "keras" in sys.modules, "MaskedConv1D" in dir(zoo.layers)]))
"""


def test_the_layer_classes_load_keras_only_when_first_used():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == [False, False, "MaskedConv1D", True, True]
    with pytest.raises(AttributeError, match=r"^module 'zoo.layers' has no attribute 'MaskedConv2D'$"):
        zoo.layers.MaskedConv2D
