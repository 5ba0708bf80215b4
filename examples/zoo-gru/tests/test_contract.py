"""The zoo's contract suite, run on this plugin: every check, at class counts 2, 3, 7 and 46; and the padding mask."""

import warnings

import zoo
from zoo.testing import parametrize_with_checks


def test_plugin_is_discovered():
    assert "gru" in zoo.list_architectures()
    assert zoo.get("gru").package == "zoo-gru"


def test_no_layer_drops_the_padding_mask():
    # Keras warns "... will therefore destroy the mask information" when a layer ignores the mask it is given
    arch = zoo.get("gru")
    for mode in arch.inputs:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arch.build(3, **{**arch.test_hyperparameters, "input": mode, "num_features": 4})
        assert [str(w.message) for w in caught if "destroy the mask" in str(w.message)] == []


@parametrize_with_checks(["gru"])
def test_zoo_contract(check):
    check()
