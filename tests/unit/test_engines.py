"""The onnxruntime engine's own preprocessing: its Python tokenizer gives TextVectorization's ids on tricky texts,
and its features path keeps Keras's masking (an all-zero step inside a sequence is skipped, not run)."""

import numpy as np
import pytest

from zoo.engines import TextTokenizer

TRICKY = ["I'm FINE, thanks!!", "ÄÖÜ ßtraße İstanbul", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "a\u00a0b\u2028c\u200bd",
          "tabs\tand\nnewlines\r\nand\x0bvt\x0cff", "", "   ", "emoji 😀 ok", "hy-phen_under.score/slash",
          "UPPER lower MiXeD", "'quoted' \"double\" `back`", "x" * 300, " ".join(["the"] * 80), "ünseen wörd"]


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize("length", [None, 16])
def test_the_python_tokenizer_gives_textvectorizations_ids(length):
    import keras

    corpus = ["the fine thanks im", "ÄÖÜ straße istanbul äöü", "abc fullwidth", "a b c d", "tabs and newlines",
              "emoji ok", "hy phen under score slash", "upper lower mixed", "quoted double back"] * 2
    layer = keras.layers.TextVectorization(max_tokens=30, output_sequence_length=length)
    layer.adapt(np.array(corpus, dtype=object))
    expected = np.asarray(layer(np.array(TRICKY, dtype=object)))
    got = TextTokenizer(layer.get_vocabulary(), length)(TRICKY)
    if length is None:  # TextVectorization pads a batch to its longest row; compare on that width
        got = got[:, :expected.shape[1]] if got.shape[1] >= expected.shape[1] else np.pad(
            got, ((0, 0), (0, expected.shape[1] - got.shape[1])))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize("name,extra", [("lstm", {}), ("bilstm", {"pooling": "max"}), ("bilstm", {"pooling": "mean"})])
def test_an_all_zero_step_inside_a_sequence_is_skipped_as_keras_masking_skips_it(name, extra):
    # pooled too: the skipped step is left out of the maximum or the mean, as Keras's mask leaves it out; the
    # engine drops such steps, and the graph moves each row's real steps to its front
    pytest.importorskip("onnxruntime")
    import zoo
    from zoo.engines import PREPROCESSING_FORMAT, OnnxClassifier
    from zoo.onnx_graph import network_to_onnx
    from zoo.record import ModelSpec

    network = zoo.build(name, num_classes=3, input="features", num_features=2, seq_len=None, units=5, **extra)
    spec = ModelSpec(name, name, name, "keras-zoo", "0", "features", 3, {}, (), trim=True, num_features=2)
    engine = OnnxClassifier(network_to_onnx(network).SerializeToString(), {
        "format": PREPROCESSING_FORMAT, "labels": ["a", "b", "c"], "model": spec.to_dict(), "standardize": None})
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 2)).astype("float32") for n in (3, 7, 5, 9)]
    seqs[1][2] = 0.0  # a step Keras's Masking skips
    seqs[3][[0, 4]] = 0.0
    padded = np.zeros((4, 9, 2), "float32")
    for i, s in enumerate(seqs):
        padded[i, :len(s)] = s
    expected = np.asarray(network(padded))
    np.testing.assert_allclose(engine.predict_proba(seqs), expected, atol=1e-5)
    # the graph itself skips them too, for a runtime that feeds model.onnx the padded rows as they are; with an
    # all-padding row and all steps of a row but the last skipped
    padded = np.concatenate([padded, np.zeros((1, 9, 2), "float32"), padded[3:]])
    padded[5, :8] = 0.0
    expected = np.asarray(network(padded))
    got = engine.session.run(None, {engine.input: padded})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize("mode", ["tokens", "features"])
def test_a_large_batch_runs_in_chunks_cut_to_their_own_widths_and_predicts_as_keras(mode):
    pytest.importorskip("onnxruntime")
    import zoo
    from zoo import engines
    from zoo.engines import PREPROCESSING_FORMAT, OnnxClassifier
    from zoo.onnx_graph import network_to_onnx
    from zoo.record import ModelSpec

    features = {"input": "features", "num_features": 3} if mode == "features" else {"vocab_size": 50}
    network = zoo.build("bilstm", num_classes=4, seq_len=None, units=6, **features)
    spec = ModelSpec("bilstm", "bilstm", "bilstm", "keras-zoo", "0", mode, 4, {}, (), trim=True,
                     num_features=features.get("num_features"))
    engine = OnnxClassifier(network_to_onnx(network).SerializeToString(), {
        "format": PREPROCESSING_FORMAT, "labels": list("abcd"), "model": spec.to_dict(), "standardize": None})
    rng = np.random.default_rng(1)
    rows = 5 * engines.CHUNK_ROWS + 7  # six chunks, of different widths once sorted by length
    lengths = np.sort(rng.integers(1, 40, size=rows))
    x = (rng.normal(size=(rows, 40, 3)).astype("float32") if mode == "features"
         else rng.integers(1, 50, size=(rows, 40)).astype("int32"))
    x[np.arange(40)[None, :] >= lengths[:, None]] = 0
    calls = []
    run = engine.session.run
    engine.session.run = lambda names, feed: calls.append(feed[engine.input].shape) or run(names, feed)
    got = engine._run(x)
    assert len(calls) == 6 and len({shape[1] for shape in calls}) > 1  # chunks, each cut to its own width
    assert max(shape[0] for shape in calls) <= engines.CHUNK_ROWS
    np.testing.assert_allclose(got, np.asarray(network(x)), atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
