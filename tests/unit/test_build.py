"""Building real (small) Keras models: reference parameter counts, input and label modes, the runtime contract
check that refuses bad plugins, mixed precision, and a short training run whose loss falls."""

import numpy as np
import pytest

import zoo
from zoo.errors import ContractError, PluginError, ZooError

SMALL = {"units": 8, "vocab_size": 50, "embed_dim": 8, "seq_len": 10}

pytestmark = pytest.mark.usefixtures("keras_session")


@pytest.fixture
def registry(builtin_plugins):
    return zoo.Registry(builtin_plugins)


@pytest.mark.parametrize("name,params", [("lstm", 739_590), ("stacked_lstm", 1_872_134), ("bilstm", 386_822)])
def test_reference_defaults_give_the_reference_parameter_counts(registry, name, params):
    model = registry.get(name).build(6)
    assert model.count_params() == params  # built with keras.Input, so counted before any fit
    assert model.output_shape == (None, 6)
    assert model.loss == "categorical_crossentropy"


def test_the_reference_layer_stacks(registry):
    def kinds(model):
        return [type(layer).__name__ for layer in model.layers]

    assert kinds(registry.get("lstm").build(6)) == ["InputLayer", "Embedding", "LSTM", "Dense"]
    assert kinds(registry.get("stacked_lstm").build(6)) == ["InputLayer", "Embedding", "LSTM", "Dropout", "LSTM",
                                                            "Dense"]
    assert kinds(registry.get("bilstm").build(6)) == ["InputLayer", "Embedding", "Bidirectional", "Dense"]
    stacked = registry.get("stacked_lstm").build(6)
    assert stacked.get_layer("dropout_1").rate == pytest.approx(0.2)
    assert [stacked.get_layer(f"lstm_{i}").units for i in (1, 2)] == [256, 128]
    assert stacked.get_layer("embedding").mask_zero is True


@pytest.mark.parametrize("pooling,layer,precision", [
    ("last", None, "float32"), ("max", "MaskedGlobalMaxPooling1D", "float32"),
    ("mean", "MaskedGlobalAveragePooling1D", "float32"), ("max", "MaskedGlobalMaxPooling1D", "mixed_float16")])
def test_bilstm_pooling_adds_no_parameters_and_reads_only_the_real_steps(registry, pooling, layer, precision):
    import keras

    build = registry.get("bilstm").build
    small = {"input": "features", "num_features": 2, "seq_len": None, "units": 5}
    model = build(3, pooling=pooling, precision=precision, **small)
    kinds = [type(x).__name__ for x in model.layers]
    assert kinds == ["InputLayer", "Masking", "Bidirectional", *([layer] if layer else []), "Dense"]
    assert model.count_params() == build(3, **small).count_params()
    assert build(6, pooling=pooling).count_params() == 386_822  # the reference design's count, pooled or not
    rng = np.random.default_rng(0)
    x = np.zeros((2, 9, 2), "float32")
    x[0, :4] = rng.normal(size=(4, 2)) - 2.0
    x[1] = rng.normal(size=(9, 2))
    if pooling == "max":  # the LSTM outputs zeros at padded steps: they would win an unmasked maximum here
        steps = np.asarray(keras.Model(model.input, model.get_layer("bilstm").output)(x[:1, :4]), "float32")
        assert (steps[0].max(axis=0) < 0).any()
    together, alone = np.asarray(model(x)), np.asarray(model(x[:1, :4]))
    assert together.dtype == np.float32
    np.testing.assert_allclose(alone[0], together[0], atol=1e-6 if precision == "float32" else 1e-3)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-6)
    assert np.abs(together[0] - together[1]).max() > 1e-4  # the rows differ: the model is not constant


def test_an_unknown_pooling_is_refused_with_the_choices(registry):
    with pytest.raises(ZooError, match=r"pooling.*last, max, mean"):
        registry.get("bilstm").build(3, pooling="attention")


def test_optimizers_follow_the_reference(registry):
    assert type(registry.get("lstm").build(3, **SMALL).optimizer).__name__ == "Adam"
    stacked = registry.get("stacked_lstm").build(3, **{**SMALL, "units": [8]})
    assert type(stacked.optimizer).__name__ == "RMSprop"
    sgd = registry.get("bilstm").build(3, **SMALL, optimizer="sgd", learning_rate=0.5)
    assert type(sgd.optimizer).__name__ == "SGD"
    assert float(sgd.optimizer.learning_rate.numpy()) == pytest.approx(0.5)


def test_the_issue_example_builds_and_predicts_probabilities():
    model = zoo.build("bilstm", num_classes=9, input="features", num_features=12, seq_len=None, labels="sparse")
    assert model.loss == "sparse_categorical_crossentropy"
    assert model.input_shape == (None, None, 12)
    assert model.output_shape == (None, 9)
    assert type(model.layers[1]).__name__ == "Masking"
    x = np.random.default_rng(0).normal(size=(4, 7, 12)).astype("float32")
    p = model.predict(x, verbose=0)
    assert p.shape == (4, 9) and p.dtype == np.float32
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    # variable length: a longer batch works with the same model
    assert model.predict(np.ones((2, 31, 12), "float32"), verbose=0).shape == (2, 9)


def test_categorical_is_the_default_loss_and_sparse_switches(registry):
    assert registry.get("lstm").build(4, **SMALL).loss == "categorical_crossentropy"
    assert registry.get("lstm").build(4, **SMALL, labels="sparse").loss == "sparse_categorical_crossentropy"


@pytest.mark.parametrize("units,lstm_layers,dropouts", [([8], 1, 0), ([8, 6, 4], 3, 2), (5, 1, 0)])
def test_stacked_lstm_has_one_lstm_per_unit_and_dropout_between(registry, units, lstm_layers, dropouts):
    model = registry.get("stacked_lstm").build(3, **{**SMALL, "units": units})
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("LSTM") == lstm_layers
    assert kinds.count("Dropout") == dropouts
    lstms = [layer for layer in model.layers if type(layer).__name__ == "LSTM"]
    assert [layer.return_sequences for layer in lstms] == [True] * (lstm_layers - 1) + [False]
    assert lstms[-1].units == (units[-1] if isinstance(units, list) else units)


@pytest.mark.parametrize("bad,message", [
    (1, "num_classes must be an integer >= 2 (a softmax over one class is always 1.0), got 1."),
    (0, "num_classes must be an integer >= 2 (a softmax over one class is always 1.0), got 0."),
    (-3, "num_classes must be an integer >= 2 (a softmax over one class is always 1.0), got -3."),
    (2.5, "num_classes must be an integer >= 2, got float 2.5."),
    (3.0, "num_classes must be an integer >= 2, got float 3.0."),
    ("3", "num_classes must be an integer >= 2, got str '3'."),
    (True, "num_classes must be an integer >= 2, got bool True."),
    (None, "num_classes must be an integer >= 2, got NoneType None."),
])
def test_invalid_num_classes_is_a_zoo_error(registry, bad, message):
    with pytest.raises(ZooError) as e:
        registry.get("lstm").build(bad, **SMALL)
    assert str(e.value) == message


def test_numpy_integer_num_classes_is_accepted(registry):
    assert registry.get("lstm").build(np.int64(5), **SMALL).output_shape == (None, 5)


# -- the runtime contract check ----------------------------------------------------------------------------------
def _body(hp):
    import keras

    inputs = keras.Input((hp.seq_len,), dtype="int32")
    x = keras.layers.Embedding(hp.vocab_size, hp.embed_dim, mask_zero=True)(inputs)
    return inputs, keras.layers.LSTM(hp.units)(x)


def relu_head(num_classes, hp):
    import keras

    inputs, x = _body(hp)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="relu", name="scores")(x))


def softmax_then_scale(num_classes, hp):
    import keras

    inputs, x = _body(hp)
    x = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, keras.layers.Rescaling(2.0, name="scale")(x))


def wide_head(num_classes, hp):
    import keras

    inputs, x = _body(hp)
    return keras.Model(inputs, zoo.softmax_head(x, num_classes + 1))


def half_head(num_classes, hp):
    import keras

    inputs, x = _body(hp)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", dtype="float16")(x))


def policy_head(num_classes, hp):
    """A softmax Dense that follows the global policy (not zoo.softmax_head): float16 under mixed_float16."""
    import keras

    inputs, x = _body(hp)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


def two_outputs(num_classes, hp):
    import keras

    inputs, x = _body(hp)
    return keras.Model(inputs, [zoo.softmax_head(x, num_classes),
                                keras.layers.Dense(num_classes, activation="softmax", name="aux")(x)])


def not_a_model(num_classes, hp):
    return "a model"


def raises(num_classes, hp):
    raise ValueError("units must be even")


def softmax_over_the_batch(num_classes, hp):
    """A Softmax layer over axis 0: each column, not each row, sums to 1."""
    import keras

    inputs, x = _body(hp)
    x = keras.layers.Dense(num_classes)(x)
    return keras.Model(inputs, keras.layers.Softmax(axis=0, dtype="float32", name="softmax")(x))


def per_step_head(num_classes, hp):
    """A softmax at every timestep: (batch, seq_len, num_classes), not one distribution per sequence."""
    import keras

    inputs = keras.Input((hp.seq_len,), dtype="int32")
    x = keras.layers.Embedding(hp.vocab_size, hp.embed_dim, mask_zero=True)(inputs)
    x = keras.layers.LSTM(hp.units, return_sequences=True)(x)
    return keras.Model(inputs, zoo.softmax_head(x, num_classes))


def softmax_layer_head(num_classes, hp):
    import keras

    inputs, x = _body(hp)
    x = keras.layers.Dense(num_classes, dtype="float32")(x)
    return keras.Model(inputs, keras.layers.Softmax(dtype="float32")(x))


@pytest.fixture
def fakes(make_plugin):
    builds = {f.__name__.replace("_", "-"): f for f in (relu_head, softmax_then_scale, wide_head, half_head,
                                                          policy_head, two_outputs, not_a_model, raises,
                                                          softmax_layer_head, softmax_over_the_batch, per_step_head)}
    return zoo.Registry([("fake", make_plugin("fake", builds), "zoo-fake", "1.0")])


WHO = "plugin 'fake' (zoo-fake 1.0), architecture '{}': "


@pytest.mark.parametrize("name,error,problem", [
    ("relu-head", ContractError, "the final layer 'scores' (Dense) is not a softmax; end the model with "
                                 "zoo.softmax_head(x, num_classes)."),
    ("softmax-then-scale", ContractError, "the final layer 'scale' (Rescaling) is not a softmax; end the model with "
                                          "zoo.softmax_head(x, num_classes)."),
    ("wide-head", ContractError, "output shape is (None, 7); the contract is (batch, 6) for num_classes=6."),
    ("half-head", ContractError, "output dtype is float16; the head must compute in float32 (use zoo.softmax_head, "
                                 "or dtype='float32' on the last layer)."),
    ("softmax-over-the-batch", ContractError, "the final layer 'softmax' (Softmax) normalizes over axis 0; the "
                                              "contract is a softmax over the class axis (-1), so that each row sums "
                                              "to 1: end the model with zoo.softmax_head(x, num_classes)."),
    ("per-step-head", ContractError, "output shape is (None, 10, 6); the contract is (batch, 6) for num_classes=6."),
    ("two-outputs", ContractError, "the model has 2 outputs; the contract is one softmax output."),
    ("not-a-model", ContractError, "build() must return a keras.Model, got str."),
    # the location is the line in the plugin that raised, found in the traceback
    ("raises", PluginError, "build failed with ValueError: units must be even "
                            f"(test_build.py:{raises.__code__.co_firstlineno + 1})"),
])
def test_the_runtime_contract_check_refuses_a_bad_plugin_naming_it_and_the_problem(fakes, name, error, problem):
    with pytest.raises(error) as e:
        fakes.get(name).build(6)
    assert str(e.value) == WHO.format(name) + problem
    assert isinstance(e.value, PluginError)


def test_a_head_that_ignores_the_policy_is_refused_under_mixed_precision_only(fakes):
    assert fakes.get("policy-head").build(3).output.dtype == "float32"
    with pytest.raises(ContractError) as e:
        fakes.get("policy-head").build(3, precision="mixed_float16")
    assert str(e.value).startswith(WHO.format("policy-head") + "output dtype is float16;")


def test_a_keras_softmax_layer_head_is_accepted(fakes):
    model = fakes.get("softmax-layer-head").build(4)
    assert model.layers[-1].get_config()["axis"] == -1
    p = model.predict(np.ones((3, 10), "int32"), verbose=0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


# -- precision ---------------------------------------------------------------------------------------------------
def test_mixed_float16_computes_in_float16_but_outputs_float32(registry):
    import keras

    model = registry.get("lstm").build(3, **SMALL, precision="mixed_float16")
    assert model.get_layer("lstm").dtype_policy.name == "mixed_float16"
    assert model.get_layer("softmax").dtype_policy.name == "float32"
    assert model.output.dtype == "float32"
    p = model.predict(np.arange(1, 41, dtype="int32").reshape(4, 10), verbose=0)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored after the build


def test_a_users_global_mixed_policy_does_not_leak_into_a_float32_build(registry):
    import keras

    keras.config.set_dtype_policy("mixed_float16")
    model = registry.get("lstm").build(3, **SMALL)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert keras.config.dtype_policy().name == "mixed_float16"  # and the user's policy is left as it was


def test_the_global_policy_is_restored_when_a_build_fails(fakes):
    import keras

    with pytest.raises(PluginError):
        fakes.get("raises").build(3, precision="mixed_float16")
    assert keras.config.dtype_policy().name == "float32"


# -- training ----------------------------------------------------------------------------------------------------
def separable_tokens(n=64, seq_len=10, seed=0):
    """Class 0 uses token ids 1..24, class 1 uses 25..49: separable from any single token."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = np.where(y[:, None] == 0, rng.integers(1, 25, (n, seq_len)), rng.integers(25, 50, (n, seq_len)))
    return x.astype("int32"), y


@pytest.mark.parametrize("name,labels", [("lstm", "categorical"), ("bilstm", "sparse")])
def test_a_short_training_run_makes_the_loss_fall_and_stay_finite(registry, name, labels):
    import keras

    keras.utils.set_random_seed(0)
    x, y = separable_tokens()
    model = registry.get(name).build(2, **SMALL, learning_rate=0.02, labels=labels)
    target = np.eye(2, dtype="float32")[y] if labels == "categorical" else y
    history = model.fit(x, target, epochs=5, batch_size=16, verbose=0).history  # 20 steps
    assert set(history) == {"loss", "accuracy"}  # compiled with the contract's loss and an accuracy metric
    losses = history["loss"]
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.5 * losses[0], losses
    assert all(b <= a * 1.05 for a, b in zip(losses, losses[1:])), losses  # falls, no blow-up
    assert history["accuracy"][-1] == 1.0
