"""Hyperparameters: unknown names suggest the close one and list the valid ones; types, ranges, lists, CLI values."""

import pytest

import zoo
from zoo.errors import HyperparameterError
from zoo.hyperparameters import COMMON, Hyperparameters, Param, parse_assignment

LSTM_VALID = ("Valid: input (str in {tokens, features}), num_features (int, 1..1000000, or null), labels (str in "
              "{categorical, sparse}), optimizer (str in {adam, adamw, nadam, rmsprop, sgd}), learning_rate (float, "
              "1e-09..10, or null), precision (str in {float32, mixed_float16, mixed_bfloat16}), vocab_size (int, "
              "2..10000000), embed_dim (int, 1..4096), seq_len (int, 1..1000000, or null), units (int, 1..4096).")


@pytest.fixture
def registry(builtin_plugins):
    return zoo.Registry(builtin_plugins)


def test_an_unknown_hyperparameter_suggests_the_close_name_and_lists_the_valid_ones_with_types(registry):
    with pytest.raises(HyperparameterError) as e:
        registry.get("lstm").hyperparameters(unitz=3)
    assert str(e.value) == "Unknown hyperparameter 'unitz' for 'lstm'. Did you mean 'units'? " + LSTM_VALID


def test_an_unknown_hyperparameter_with_nothing_close_has_no_suggestion(registry):
    with pytest.raises(HyperparameterError) as e:
        registry.get("bilstm").hyperparameters(colour="red")
    assert str(e.value).startswith("Unknown hyperparameter 'colour' for 'bilstm'. Valid: input (str in ")
    assert "Did you mean" not in str(e.value)
    assert "units (int, 1..4096), pooling (str in {last, max, mean})." in str(e.value)


def test_the_stacked_schema_lists_its_own_types(registry):
    with pytest.raises(HyperparameterError) as e:
        registry.get("stacked").hyperparameters(drop_out=0.1)
    msg = str(e.value)
    assert msg.startswith("Unknown hyperparameter 'drop_out' for 'stacked_lstm'. Did you mean 'dropout'? Valid: ")
    assert msg.endswith("units (list[int], 1..4096), dropout (float, 0..0.95).")


@pytest.mark.parametrize("name,overrides,message", [
    ("lstm", {"units": "3"}, "Bad value '3' for hyperparameter 'units' of 'lstm': expected int, 1..4096."),
    ("lstm", {"units": 2.0}, "Bad value 2.0 for hyperparameter 'units' of 'lstm': expected int, 1..4096."),
    ("lstm", {"units": True}, "Bad value True for hyperparameter 'units' of 'lstm': expected int, 1..4096."),
    ("lstm", {"units": None}, "Bad value None for hyperparameter 'units' of 'lstm': it cannot be null."),
    ("stacked_lstm", {"dropout": "0.2"}, "Bad value '0.2' for hyperparameter 'dropout' of 'stacked_lstm': "
                                         "expected float, 0..0.95."),
    ("lstm", {"optimizer": "adagrad"}, "Bad value 'adagrad' for hyperparameter 'optimizer' of 'lstm': expected one "
                                       "of adam, adamw, nadam, rmsprop, sgd."),
    ("lstm", {"labels": "onehot"}, "Bad value 'onehot' for hyperparameter 'labels' of 'lstm': expected one of "
                                   "categorical, sparse."),
    ("lstm", {"input": "images"}, "Bad value 'images' for hyperparameter 'input' of 'lstm': expected one of tokens, "
                                  "features."),
    ("lstm", {"learning_rate": float("nan")}, "Bad value nan for hyperparameter 'learning_rate' of 'lstm': it must "
                                              "be a finite number."),
    ("lstm", {"learning_rate": float("inf")}, "Bad value inf for hyperparameter 'learning_rate' of 'lstm': it must "
                                              "be a finite number."),
    # out of range
    ("lstm", {"units": 0}, "Bad value 0 for hyperparameter 'units' of 'lstm': expected int, 1..4096."),
    ("bilstm", {"units": 4097}, "Bad value 4097 for hyperparameter 'units' of 'bilstm': expected int, 1..4096."),
    ("lstm", {"vocab_size": 1}, "Bad value 1 for hyperparameter 'vocab_size' of 'lstm': expected int, 2..10000000."),
    ("stacked_lstm", {"dropout": 0.99}, "Bad value 0.99 for hyperparameter 'dropout' of 'stacked_lstm': expected "
                                        "float, 0..0.95."),
    ("lstm", {"learning_rate": 0.0}, "Bad value 0.0 for hyperparameter 'learning_rate' of 'lstm': expected float, "
                                     "1e-09..10, or null."),
    ("lstm", {"seq_len": 0}, "Bad value 0 for hyperparameter 'seq_len' of 'lstm': expected int, 1..1000000, or null."),
    # list[int]
    ("stacked_lstm", {"units": []}, "Bad value [] for hyperparameter 'units' of 'stacked_lstm': it needs at least 1 "
                                    "item(s)."),
    ("stacked_lstm", {"units": [64, "a"]}, "Bad value [64, 'a'] for hyperparameter 'units' of 'stacked_lstm': "
                                           "expected list[int], 1..4096."),
    ("stacked_lstm", {"units": [64, 0]}, "Bad value [64, 0] for hyperparameter 'units' of 'stacked_lstm': expected "
                                         "list[int], 1..4096."),
    ("stacked_lstm", {"units": "64,32"}, "Bad value '64,32' for hyperparameter 'units' of 'stacked_lstm': expected "
                                         "list[int], 1..4096."),
    # input='features' without num_features
    ("bilstm", {"input": "features"}, "input='features' needs num_features (the size of each timestep's vector) for "
                                      "'bilstm': pass num_features=F."),
    ("lstm", {"input": "features", "num_features": 0}, "Bad value 0 for hyperparameter 'num_features' of 'lstm': "
                                                       "expected int, 1..1000000, or null."),
])
def test_bad_values_name_the_value_the_hyperparameter_and_what_was_expected(registry, name, overrides, message):
    with pytest.raises(HyperparameterError) as e:
        registry.get(name).hyperparameters(**overrides)
    assert str(e.value) == message


def test_building_validates_before_anything_heavy(registry):
    # zoo.build raises the same error as hyperparameters(); no model is built for a typo
    with pytest.raises(HyperparameterError, match=r"^Unknown hyperparameter 'unit' for 'bilstm'\. Did you mean "
                                                  r"'units'\?"):
        registry.get("bilstm").build(6, unit=32)


def test_good_values_merge_into_the_defaults_and_widen_ints_for_floats(registry):
    hp = registry.get("stacked").hyperparameters(units=(32, 16), learning_rate=1, seq_len=None)
    assert isinstance(hp, Hyperparameters)
    assert dict(hp) == {"input": "tokens", "num_features": None, "labels": "categorical", "optimizer": "rmsprop",
                        "learning_rate": 1.0, "precision": "float32", "vocab_size": 10000, "embed_dim": 128,
                        "seq_len": None, "units": [32, 16], "dropout": 0.2}
    assert isinstance(hp.learning_rate, float)


@pytest.mark.parametrize("value,expected", [(64, [64]), ([64], [64]), ((256, 128, 64), [256, 128, 64])])
def test_list_int_takes_a_list_a_tuple_or_one_int(registry, value, expected):
    assert registry.get("stacked_lstm").hyperparameters(units=value).units == expected


def test_an_architecture_that_takes_only_tokens_refuses_features(make_plugin, good_build):
    reg = zoo.Registry([("fake", make_plugin("fake", {"tok": good_build}, inputs="[tokens]"), "zoo-fake", "1.0")])
    with pytest.raises(HyperparameterError) as e:
        reg.get("tok").hyperparameters(input="features", num_features=3)
    assert str(e.value) == "'tok' does not accept input='features'; it accepts: tokens."


def test_param_describe_forms():
    assert Param("units", "int", min=1, max=4096).describe() == "int, 1..4096"
    assert Param("rate", "float", min=0.0, max=0.5).describe() == "float, 0..0.5"
    assert Param("seq_len", "int", min=1, nullable=True).describe() == "int, 1.., or null"
    assert Param("mode", "str", choices=("a", "b")).describe() == "str in {a, b}"
    assert Param("flag", "bool").describe() == "bool"
    assert COMMON["learning_rate"].describe() == "float, 1e-09..10, or null"


def test_bool_params_take_only_booleans():
    flag = Param("flag", "bool")
    assert flag.validate(False, "x") is False
    with pytest.raises(HyperparameterError, match=r"^Bad value 0 for hyperparameter 'flag' of 'x': expected bool\.$"):
        flag.validate(0, "x")


def test_a_single_int_for_a_list_still_honours_min_length():
    with pytest.raises(HyperparameterError, match="it needs at least 2 item"):
        Param("units", "list[int]", min=1, min_length=2).validate(8, "x")


def test_hyperparameters_are_a_read_only_mapping_with_attribute_access():
    hp = Hyperparameters({"units": 64, "input": "tokens"})
    assert (hp.units, hp["input"], len(hp), list(hp)) == (64, "tokens", 2, ["units", "input"])
    with pytest.raises(AttributeError, match=r"^no hyperparameter 'unit'; have: units, input$"):
        hp.unit
    with pytest.raises(TypeError):
        hp["units"] = 3  # type: ignore[index]
    assert hp.replace(units=8).units == 8 and hp.units == 64


@pytest.mark.parametrize("text,expected", [
    ("units=64", ("units", 64)),
    ("dropout=0.2", ("dropout", 0.2)),
    ("seq_len=null", ("seq_len", None)),
    ("seq_len=None", ("seq_len", "None")),  # YAML, not Python: None is a string (and then refused by validation)
    ("units=256,128", ("units", [256, 128])),
    ("units=[256, 128]", ("units", [256, 128])),
    ("units=64,", ("units", [64])),
    ("optimizer=adam", ("optimizer", "adam")),
    (" units = 8 ", ("units", 8)),
    ("labels=", ("labels", "")),
    ("flag=true", ("flag", True)),
    ("learning_rate=1.0e-3", ("learning_rate", 0.001)),
    ("units=[1,", ("units", "[1,")),  # unparsable YAML stays the raw string; validation names it
])
def test_parse_assignment_reads_the_value_as_yaml(text, expected):
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["units", "=64", " =64", ""])
def test_parse_assignment_refuses_text_without_key_and_equals(text):
    with pytest.raises(HyperparameterError) as e:
        parse_assignment(text)
    assert str(e.value) == f"Bad --set {text!r}: expected KEY=VALUE, e.g. --set units=64."


@pytest.mark.parametrize("text,value", [("learning_rate=1e-3", 0.001), ("learning_rate=5E-4", 0.0005)])
def test_parse_assignment_reads_exponent_floats(text, value):
    key, parsed = parse_assignment(text)
    assert (key, parsed) == ("learning_rate", value)


def test_numpy_scalars_are_accepted_and_become_plain_python_values():
    import numpy as np

    units, rate, flag = Param("units", "int", min=1), Param("rate", "float"), Param("flag", "bool")
    assert (units.validate(np.int64(8), "x"), type(units.validate(np.int32(8), "x"))) == (8, int)
    assert type(rate.validate(np.float32(0.5), "x")) is float and rate.validate(np.int64(2), "x") == 2.0
    assert flag.validate(np.bool_(True), "x") is True
    with pytest.raises(HyperparameterError, match="expected int"):
        units.validate(np.bool_(True), "x")


def test_exponent_floats_in_yaml_files_are_read_as_numbers():
    assert Param("learning_rate", "float", min=0).validate("1e-3", "x") == 0.001
    with pytest.raises(HyperparameterError, match="expected float"):
        Param("learning_rate", "float").validate("fast", "x")
