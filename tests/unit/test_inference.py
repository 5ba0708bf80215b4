"""zoo.inference.Runner: the same probabilities on every path, XLA only where the rule says, graceful fallback."""

import dataclasses

import numpy as np
import pytest

import zoo
from zoo import inference
from zoo.errors import ZooError
from zoo.inference import Runner, check_jit_compile, compiled_rows

SMALL = {"units": 8, "embed_dim": 8, "vocab_size": 50, "seq_len": None}


@pytest.fixture(scope="module")
def network():
    return zoo.build("bilstm", num_classes=4, **SMALL)


def padded_rows(rng, n, width):
    x = rng.integers(1, 50, size=(n, width)).astype("int32")
    lengths = rng.integers(1, width + 1, size=n)
    x[np.arange(width)[None, :] >= lengths[:, None]] = 0
    return x


@pytest.mark.parametrize("jit_compile", [False, True])
def test_runner_predicts_what_keras_predicts_on_every_shape(network, jit_compile):
    rng = np.random.default_rng(0)
    runner = Runner(network, jit_compile=jit_compile)
    shapes = [(1, 8), (5, 16), (5, 8), (1, 8)]
    for shape in shapes:
        x = padded_rows(rng, *shape)
        probs = runner(x)
        assert probs.dtype == np.float32 and probs.shape == (shape[0], 4)
        np.testing.assert_allclose(probs, network.predict(x, verbose=0), atol=1e-6)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert set(runner.compiled) == ({(compiled_rows(n), w) for n, w in shapes} if jit_compile else set())


def test_auto_compiles_a_shape_once_its_uncompiled_time_reaches_the_compile_estimate(network):
    x = padded_rows(np.random.default_rng(1), 8, 8)
    runner = Runner(network, jit_compile="auto", background=False)
    runner(x)  # traces: not counted against the shape
    assert runner.graph == {} and runner.compiled == {}
    runner.compile_estimate = 1e-12  # any measured time reaches it
    runner(x)
    assert runner.graph[(8, 8)][1] == 1 and runner.compiled == {}
    expected = runner(x)  # now compiled
    assert list(runner.compiled) == [(8, 8)]
    assert runner.compile_estimate == runner.compiled[(8, 8)]  # later decisions use the measured cost
    np.testing.assert_allclose(runner(x), expected, atol=1e-6)
    assert runner.xla[(8, 8)][1] == 1 and runner.graph[(8, 8)][1] == 1


def test_auto_compiles_on_a_background_thread_while_the_shape_keeps_to_the_graph(network):
    x = padded_rows(np.random.default_rng(9), 8, 8)
    runner = Runner(network, jit_compile="auto")
    runner(x)  # traces
    runner.compile_estimate = 1e-12
    runner(x)  # one graph call reaches the estimate
    first = runner(x)  # due: handed to the compiler thread, answered by the graph meanwhile
    assert runner.graph[(8, 8)][1] == 2 and runner.compiled == {} and list(runner._compiling) == [(8, 8)]
    runner.wait()
    second = runner(x)  # compiled now: this call runs XLA
    assert list(runner.compiled) == [(8, 8)] and runner.xla[(8, 8)][1] == 1 and runner.graph[(8, 8)][1] == 2
    np.testing.assert_allclose(second, first, atol=1e-6)
    np.testing.assert_allclose(second, network.predict(x, verbose=0), atol=1e-6)


def test_auto_does_not_compile_a_one_off_call(network):
    runner = Runner(network, jit_compile="auto", background=False)
    for _ in range(3):
        runner(padded_rows(np.random.default_rng(2), 8, 16))
    assert runner.compiled == {} and runner.graph[(8, 16)][1] == 2


def test_auto_returns_a_shape_to_the_graph_when_xla_is_slower_there(network):
    x = padded_rows(np.random.default_rng(3), 8, 8)
    runner = Runner(network, jit_compile="auto", background=False)
    runner(x)
    runner.graph[(8, 8)] = [1e-12, 1]  # pretend the graph ran it in a picosecond
    runner.compile_estimate = 0.0
    for _ in range(4):  # compile, then three timed XLA calls
        runner(x)
    assert (8, 8) in runner.rejected and runner.xla[(8, 8)][1] == 3
    runner(x)
    assert runner.graph[(8, 8)][1] == 2 and runner.xla[(8, 8)][1] == 3


def test_forced_xla_keeps_a_slower_shape(network):
    x = padded_rows(np.random.default_rng(3), 8, 8)
    runner = Runner(network, jit_compile=True)
    runner.graph[(8, 8)] = [1e-12, 1]
    for _ in range(5):
        runner(x)
    assert runner.rejected == set() and runner.xla[(8, 8)][1] == 4


def test_a_network_xla_cannot_compile_warns_once_and_predicts_on_the_graph():
    import keras
    import tensorflow as tf

    class HostOp(keras.layers.Layer):  # tf.numpy_function runs Python: XLA has no kernel for it
        def call(self, x):
            y = tf.numpy_function(lambda a: a * 2, [x], tf.float32)
            return tf.ensure_shape(y, x.shape)

    inputs = keras.Input((None, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling1D()(HostOp()(inputs)))
    model = keras.Model(inputs, outputs, name="host_op_net")
    x = np.random.default_rng(4).normal(size=(4, 5, 3)).astype("float32")
    runner = Runner(model, jit_compile=True)
    with pytest.warns(UserWarning, match="XLA could not compile host_op_net"):
        probs = runner(x)
    np.testing.assert_allclose(probs, model.predict(x, verbose=0), atol=1e-6)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        np.testing.assert_allclose(runner(x), probs, atol=1e-6)
    assert runner.compiled == {}


def test_auto_never_compiles_next_to_a_gpu(network, monkeypatch):
    # no GPU here: only the device query can be faked. With one, the LSTMs must keep cuDNN, which XLA cannot call.
    monkeypatch.setattr(inference, "_has_gpu", lambda: True)
    runner = Runner(network, jit_compile="auto", background=False)
    runner.compile_estimate = 0.0
    runner(padded_rows(np.random.default_rng(5), 8, 8))
    assert runner.compiled == {} and runner._xla is None
    assert Runner(network, jit_compile=True)._xla is not None  # asked for explicitly: honoured


@pytest.mark.parametrize("value, expected", [("auto", "auto"), (True, True), (False, False), ("TRUE", True),
                                             ("false", False)])
def test_jit_compile_spellings(value, expected):
    result = check_jit_compile(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("value", ["sometimes", 1, 0, None, "xla"])
def test_bad_jit_compile_is_one_clear_error(value, tmp_path):
    with pytest.raises(ZooError, match=r"^jit_compile must be 'auto', True or False, got "):
        zoo.load(tmp_path, jit_compile=value)


def test_bad_input_raises_the_graphs_error_and_leaves_xla_on(network):
    import warnings

    runner = Runner(network, jit_compile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "could not compile" warning: the input was bad, not the compiler
        with pytest.raises(TypeError, match="Binding inputs to tf.function failed"):
            runner(np.zeros((2, 8, 3), "int32"))
    assert runner._xla is not None
    runner(padded_rows(np.random.default_rng(6), 8, 8))
    assert list(runner.compiled) == [(8, 8)]


def test_compiled_shapes_are_bounded(network, monkeypatch):
    monkeypatch.setattr(inference, "MAX_COMPILED_SHAPES", 2)
    runner = Runner(network, jit_compile=True)
    rng = np.random.default_rng(7)
    for width in (8, 16, 24, 8, 24):
        x = padded_rows(rng, 1, width)
        np.testing.assert_allclose(runner(x), network.predict(x, verbose=0), atol=1e-6)
    # the third shape runs on the graph (its first graph call traces and is not counted)
    assert list(runner.compiled) == [(1, 8), (1, 16)] and runner.graph[(1, 24)][1] == 1


def test_a_network_that_waives_variable_length_is_never_trimmed():
    """A pooling network without masking sees padding: predictions must not depend on how rows are batched."""
    import keras

    from zoo.classifier import Classifier
    from zoo.data import pad_features

    inputs = keras.Input((None, 3))
    pooled = keras.layers.GlobalAveragePooling1D()(inputs)  # averages padding in: length-dependent
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(pooled))
    rng = np.random.default_rng(8)
    seqs = [rng.normal(size=(n, 3)).astype("float32") + 1 for n in (2, 9, 4, 30)]
    from zoo.record import ModelSpec

    spec = ModelSpec("x", "x", "x", "pkg", "1", "features", 2, {"num_features": 3, "seq_len": None}, parts=(),
                     trim=False, seq_len=None, num_features=3)
    whole = model.predict(pad_features(seqs, None), verbose=0)
    untrimmed = Classifier(model, ["a", "b"], spec, jit_compile=False)
    for batch_size in (1, 3, 256):
        np.testing.assert_allclose(untrimmed.predict_proba(seqs, batch_size=batch_size), whole, atol=1e-6)
    trimmed = Classifier(model, ["a", "b"], dataclasses.replace(spec, trim=True), jit_compile=False)
    assert not np.allclose(trimmed.predict_proba(seqs, batch_size=1), whole, atol=1e-3)  # why the flag matters


@pytest.fixture(scope="module")
def lstm_network():
    return zoo.build("lstm", num_classes=4, **SMALL)


@pytest.mark.parametrize("parts", [2, 3])
def test_a_batch_run_in_parts_predicts_what_keras_predicts_in_row_order(lstm_network, parts):
    rng = np.random.default_rng(5)
    runner = Runner(lstm_network, jit_compile=False, parts=parts)
    calls: list = [[], []]  # the row counts each graph function was called with: whole, in parts
    runner._graph, runner._graph_parts = (
        lambda x, f=runner._graph: calls[0].append(len(x)) or f(x),
        lambda x, f=runner._graph_parts: calls[1].append(len(x)) or f(x))
    for rows in (inference.SPLIT_MIN_ROWS + 1, 67, 4):  # odd row counts: parts of unequal size, order kept
        x = padded_rows(rng, rows, 16)
        np.testing.assert_allclose(runner(x), lstm_network.predict(x, verbose=0), atol=1e-6)
    assert calls == [[4], [inference.SPLIT_MIN_ROWS + 1, 67]]  # small batches run whole


def test_the_split_never_reaches_xla(lstm_network):
    runner = Runner(lstm_network, jit_compile=True, parts=2)
    x = padded_rows(np.random.default_rng(6), 40, 8)
    np.testing.assert_allclose(runner(x), lstm_network.predict(x, verbose=0), atol=1e-6)
    assert list(runner.compiled) == [(40, 8)] and runner._traced == set()


def test_parts_follow_the_cores_and_the_recurrent_loops(lstm_network, network, monkeypatch):
    monkeypatch.setattr(inference, "_has_gpu", lambda: False)
    monkeypatch.setattr(inference, "_cpu_cores", lambda: 2)
    assert (Runner(lstm_network).parts, Runner(network).parts) == (2, 1)  # bilstm: two loops on two cores
    monkeypatch.setattr(inference, "_cpu_cores", lambda: 4)
    assert Runner(network).parts == 2
    monkeypatch.setattr(inference, "_has_gpu", lambda: True)
    assert Runner(lstm_network).parts == 1 and Runner(lstm_network)._graph_parts is None


def test_recurrent_layers_a_custom_layer_holds_are_found_once_each(monkeypatch):
    import keras

    from zoo import training

    class Block(keras.layers.Layer):  # a plugin's own layer, holding its recurrent layers as attributes
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.lstm = keras.layers.LSTM(4)
            self.both = keras.layers.Bidirectional(keras.layers.GRU(3))

        def call(self, x):
            return keras.ops.concatenate([self.lstm(x), self.both(x)], axis=-1)

    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(Block()(inputs)))
    kinds = [type(layer).__name__ for layer in inference.sublayers(model)]
    assert (kinds.count("LSTM"), kinds.count("Bidirectional"), kinds.count("GRU")) == (1, 1, 2)  # forward, backward
    assert len(kinds) == len({id(layer) for layer in inference.sublayers(model)})
    cells = training.gated_cells(model)
    assert sorted(type(cell).__name__ for cell in cells) == ["GRUCell", "GRUCell", "LSTMCell"]
    (lstm,) = [cell for cell in cells if isinstance(cell, keras.layers.LSTMCell)]
    assert training.init_memory(model, 100, seed=0) == 3  # chrono reaches them
    assert keras.ops.convert_to_numpy(lstm.bias)[4:8].std() > 0.3  # the forget gates, no longer Keras's 1
    assert inference.parallel_parts(model, cores=2, gpu=False) == 1  # the bidirectional layer runs two loops
    assert inference.parallel_parts(model, cores=4, gpu=False) == 2


@pytest.mark.parametrize("parts", [0, -2, 1.5, "2", True])
def test_bad_parts_is_one_clear_error(lstm_network, parts):
    with pytest.raises(ZooError, match=r"^parts must be a positive integer, got "):
        Runner(lstm_network, parts=parts)


def test_auto_stops_compiling_once_xla_lost_every_shape_it_was_tried_on(network):
    rng = np.random.default_rng(7)
    runner = Runner(network, jit_compile="auto", parts=1, background=False)
    runner.compile_estimate = 0.0
    xs = [padded_rows(rng, 8, width) for width in (8, 16, 24)]
    runner(xs[0])  # traces
    for x in xs:
        runner.compile_estimate = 0.0  # (each compilation sets it to the time it took)
        runner(x)  # one graph call each: reaches the (zero) compile estimate
        runner.graph[x.shape] = [1e-12, 1]  # pretend the graph is unbeatable
        for _ in range(4):  # compile, then three timed XLA calls: slower, rejected
            runner(x)
    assert runner.rejected == {(8, 8), (8, 16)} and runner.kept == set()
    assert (8, 24) not in runner.compiled  # the third shape was never compiled
    np.testing.assert_allclose(runner(xs[2]), network.predict(xs[2], verbose=0), atol=1e-6)


def test_a_shape_xla_wins_keeps_auto_compiling(network):
    rng = np.random.default_rng(8)
    runner = Runner(network, jit_compile="auto", parts=1, background=False)
    runner.compile_estimate = 0.0
    x = padded_rows(rng, 8, 8)
    runner(x)
    runner(x)
    runner.graph[x.shape] = [1e9, 1]  # the graph took "forever": XLA wins this shape
    for _ in range(4):
        runner(x)
    assert runner.kept == {(8, 8)} and runner.rejected == set()
    runner.rejected.update({(9, 9), (9, 10)})  # two losses elsewhere do not stop it while one shape is kept
    y = padded_rows(rng, 8, 16)
    runner.compile_estimate = 0.0
    runner(y)
    runner(y)
    assert (8, 16) in runner.compiled


def test_batches_of_different_sizes_share_one_compiled_shape_and_answer_only_their_rows(network):
    rng = np.random.default_rng(10)
    runner = Runner(network, jit_compile=True)
    for rows in (3, 5, 8):
        x = padded_rows(rng, rows, 16)
        probs = runner(x)
        assert probs.shape == (rows, 4)
        np.testing.assert_allclose(probs, network.predict(x, verbose=0), atol=1e-6)
    assert list(runner.compiled) == [(8, 16)] and runner.xla[(8, 16)][1] == 2
