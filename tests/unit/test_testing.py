"""The public contract suite (zoo.testing): what it enumerates, that each check catches a deliberately broken
architecture with a useful message, waivers, zero-check runs, and the pytest helper for plugin authors."""

import importlib
import os
import re
import sys
import types

import pytest

import zoo
from zoo.errors import ZooError
from zoo.testing import (CHECK_NAMES, CLASS_COUNTS, CheckFailed, check_lazy_import, iter_checks,
                         parametrize_with_checks, run_checks)

pytestmark = pytest.mark.usefixtures("keras_session")

PER_CLASS = ["softmax_head", "mixed_precision", "train_categorical", "train_sparse", "save_load", "batch_sizes",
             "input_modes", "variable_length"]
ONCE = ["lazy_import", "invalid_num_classes", "cudnn_eligible"]


@pytest.fixture
def registry(builtin_plugins):
    return zoo.Registry(builtin_plugins)


# -- what runs ---------------------------------------------------------------------------------------------------
def test_the_suite_covers_class_counts_2_3_7_46_and_every_check(registry):
    assert CLASS_COUNTS == (2, 3, 7, 46)
    assert list(CHECK_NAMES) == PER_CLASS + ONCE
    checks = list(iter_checks(["lstm"], registry=registry))
    assert len(checks) == len(PER_CLASS) * 4 + len(ONCE) == 35
    for name in PER_CLASS:
        assert sorted(c.num_classes for c in checks if c.name == name) == [2, 3, 7, 46]
    assert [c.id for c in checks if c.num_classes is None] == ["lstm-lazy_import", "lstm-invalid_num_classes",
                                                               "lstm-cudnn_eligible"]
    assert checks[0].id == "lstm-softmax_head-2"


def test_no_names_means_every_architecture_but_presets(builtin_plugins, write):
    reg = zoo.Registry(builtin_plugins, presets=[write("p.yaml", "presets:\n  tiny:\n    architecture: lstm\n")])
    checks = list(iter_checks(registry=reg, checks=["softmax_head"], class_counts=[3]))
    assert [c.id for c in checks] == ["bilstm-softmax_head-3", "lstm-softmax_head-3", "stacked_lstm-softmax_head-3"]
    assert [c.id for c in iter_checks(["tiny"], registry=reg, checks=["lazy_import"])] == ["tiny-lazy_import"]


def test_an_unknown_check_name_is_refused_listing_the_valid_ones(registry):
    with pytest.raises(ZooError) as e:
        list(iter_checks(["lstm"], registry=registry, checks=["softmax_head", "sav_load"]))
    assert str(e.value) == "Unknown check(s): sav_load. Valid: " + ", ".join(PER_CLASS + ONCE) + "."


def test_an_unknown_architecture_is_refused(registry):
    with pytest.raises(zoo.UnknownArchitectureError, match=r"^No architecture named 'lstn'\. Did you mean 'lstm'\?"):
        list(iter_checks(["lstn"], registry=registry))


def test_real_checks_pass_and_the_report_counts_them(registry):
    seen = []
    report = run_checks(["lstm"], registry=registry, class_counts=[3],
                        checks=["softmax_head", "invalid_num_classes", "lazy_import"], progress=seen.append)
    assert [(r.check.id, r.status, r.detail) for r in report.results] == [
        ("lstm-softmax_head-3", "passed", ""), ("lstm-lazy_import", "passed", ""),
        ("lstm-invalid_num_classes", "passed", "")]
    assert seen == report.results
    assert all(r.seconds > 0 for r in report.results)
    assert (report.ran, report.ok) == (3, True)
    assert report.summary() == "3 checks run: 3 passed, 0 failed, 0 waived"


def test_zero_checks_run_is_not_ok(registry):
    report = run_checks(["lstm"], registry=registry, class_counts=[], checks=["softmax_head"])
    assert report.results == []
    assert (report.ran, report.ok) == (0, False)
    assert report.summary() == "0 checks run: 0 passed, 0 failed, 0 waived"


# -- waivers -----------------------------------------------------------------------------------------------------
def test_waived_checks_are_reported_with_their_reason_and_do_not_count_as_run(make_plugin, good_build):
    plugin = make_plugin("w", {"w": good_build},
                         waivers={"w": {"save_load": "weights are regenerated on load", "cudnn_eligible": "no rnn"}})
    reg = zoo.Registry([("w", plugin, "zoo-w", "1.0")])
    report = run_checks(["w"], registry=reg, class_counts=[2, 3], checks=["save_load", "cudnn_eligible"])
    assert [(r.check.id, r.status, r.detail) for r in report.results] == [
        ("w-save_load-2", "waived", "weights are regenerated on load"),
        ("w-save_load-3", "waived", "weights are regenerated on load"),
        ("w-cudnn_eligible", "waived", "no rnn")]
    assert (report.ran, report.ok) == (0, False)  # only waivers: nothing was checked, so not a pass
    assert report.summary() == "0 checks run: 0 passed, 0 failed, 3 waived"
    both = run_checks(["w"], registry=reg, class_counts=[2], checks=["softmax_head", "save_load"])
    assert [r.status for r in both.results] == ["passed", "waived"]
    assert both.ok and both.summary() == "1 checks run: 1 passed, 0 failed, 1 waived"


def test_parametrize_with_checks_skips_waived_checks_with_their_reason(make_plugin, good_build):
    plugin = make_plugin("w", {"w": good_build}, waivers={"w": {"save_load": "custom op"}})
    reg = zoo.Registry([("w", plugin, "zoo-w", "1.0")])
    mark = parametrize_with_checks(["w"], registry=reg, class_counts=[2], checks=["softmax_head", "save_load"])
    assert mark.args[0] == "check"
    params = mark.args[1]
    assert [p.id for p in params] == ["w-softmax_head-2", "w-save_load-2"]
    assert list(params[0].marks) == []
    assert [(m.name, m.kwargs) for m in params[1].marks] == [("skip", {"reason": "waived: custom op"})]


def test_parametrize_with_checks_refuses_to_collect_nothing():
    with pytest.raises(ZooError, match=r"^No contract checks collected for \[\]: is the plugin installed\?$"):
        parametrize_with_checks(registry=zoo.Registry([]))


# -- each check catches a broken architecture --------------------------------------------------------------------
def _tokens_body(hp, mask_zero=True):
    import keras

    inputs = keras.Input((hp.seq_len,), dtype="int32")
    x = keras.layers.Embedding(hp.vocab_size, hp.embed_dim, mask_zero=mask_zero)(inputs)
    return inputs, x


def softmax(x):
    """A sigmoid under the softmax's name: the build-time check (which reads the config) takes it for a softmax."""
    import keras

    return keras.ops.sigmoid(x)


def sigmoid_named_softmax(num_classes, hp):
    """Passes the build-time head check, but its rows do not sum to 1: only the behavioural check can tell."""
    import keras

    inputs, x = _tokens_body(hp)
    x = keras.layers.LSTM(hp.units)(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation=softmax, dtype="float32")(x))


def padding_not_masked(num_classes, hp):
    import keras

    inputs, x = _tokens_body(hp, mask_zero=False)
    return keras.Model(inputs, zoo.softmax_head(keras.layers.LSTM(hp.units)(x), num_classes))


def forgets_on_save(num_classes, hp):
    """A registered custom layer whose get_config drops its factor: the reloaded model predicts differently."""
    import keras

    inputs, x = _tokens_body(hp)
    x = keras.layers.LSTM(hp.units)(x)
    forgetful = importlib.import_module("zoo_test_custom_layers").ForgetfulScale  # see the custom_layers fixture
    return keras.Model(inputs, zoo.softmax_head(forgetful(factor=7.0)(x), num_classes))


def batch_dependent(num_classes, hp):
    import keras

    inputs, x = _tokens_body(hp)
    x = keras.layers.LSTM(hp.units)(x)
    x = keras.layers.Lambda(lambda t: t - keras.ops.mean(t, axis=0, keepdims=True))(x)
    return keras.Model(inputs, zoo.softmax_head(x, num_classes))


def frozen(num_classes, hp):
    import keras

    inputs, x = _tokens_body(hp)
    model = keras.Model(inputs, zoo.softmax_head(keras.layers.LSTM(hp.units)(x), num_classes))
    model.trainable = False
    return model


def recurrent_dropout(num_classes, hp):
    import keras

    inputs, x = _tokens_body(hp)
    x = keras.layers.LSTM(hp.units, recurrent_dropout=0.1, name="slow_lstm")(x)
    return keras.Model(inputs, zoo.softmax_head(x, num_classes))


def float16_under_mixed(num_classes, hp):
    import keras

    inputs, x = _tokens_body(hp)
    x = keras.layers.LSTM(hp.units)(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


BROKEN = {
    "softmax_head": (sigmoid_named_softmax, r"^CheckFailed: rows sum to 1 within \d\.\d\de[-+]\d\d, expected within "
                                             r"1e-05$"),
    "variable_length": (padding_not_masked, r"^CheckFailed: input=tokens: a length-4 sequence predicts differently "
                                            r"when right-padded to 9 \(diff \d\.\d\de[-+]\d\d\); padding must be "
                                            r"masked$"),
    "save_load": (forgets_on_save, r"^CheckFailed: reloaded model predicts differently \(max abs diff "
                                   r"\d\.\d\de[-+]\d\d\)$"),
    "batch_sizes": (batch_dependent, r"^CheckFailed: row 0 predicts differently alone than in a batch of 5 \(diff "
                                     r"\d\.\d\de[-+]\d\d\)$"),
    "train_categorical": (frozen, r"^CheckFailed: categorical labels: a training step left every weight unchanged$"),
    "cudnn_eligible": (recurrent_dropout, r"^CheckFailed: layer 'slow_lstm' is not cuDNN-eligible: recurrent_dropout "
                                          r"is not 0$"),
    "mixed_precision": (float16_under_mixed, r"^ContractError: plugin 'broken' \(zoo-broken 0\.0\.1\), architecture "
                                             r"'mixed_precision': output dtype is float16; the head must compute in "
                                             r"float32"),
}


@pytest.fixture(scope="module")
def broken_registry(tmp_path_factory, custom_layers):
    catalog = tmp_path_factory.mktemp("broken") / "zoo.yaml"
    entries = "".join(
        f"  {name}:\n    summary: broken {name}\n    plugin: broken\n    inputs: [tokens]\n"
        "    defaults: {vocab_size: 50, embed_dim: 8, seq_len: 12, units: 8}\n"
        "    hyperparameters:\n      vocab_size: {type: int, min: 2}\n      embed_dim: {type: int, min: 1}\n"
        "      seq_len: {type: int, min: 1, nullable: true}\n      units: {type: int, min: 1}\n"
        + ('    custom_objects: ["zoo_test_custom_layers:ForgetfulScale"]\n' if name == "save_load" else "")
        for name in BROKEN)
    catalog.write_text("version: 1\narchitectures:\n" + entries)
    module = types.ModuleType("zoo_broken_fixture")

    @zoo.hookimpl
    def register_architectures(register):
        for name, (build, _) in BROKEN.items():
            register(name, build, catalog=catalog)

    module.register_architectures = register_architectures
    return zoo.Registry([("broken", module, "zoo-broken", "0.0.1")])


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
@pytest.mark.parametrize("check", list(BROKEN))
def test_each_check_catches_a_deliberately_broken_architecture(broken_registry, check):
    report = run_checks([check], registry=broken_registry, class_counts=[3], checks=[check])
    [result] = report.results
    assert result.status == "failed", result.detail
    assert result.detail.splitlines()[0] == result.detail  # one line, fit for a table
    assert re.match(BROKEN[check][1], result.detail), result.detail
    assert not report.ok


def test_a_failing_check_raises_check_failed_when_called_from_pytest(broken_registry):
    [check] = iter_checks(["variable_length"], registry=broken_registry, class_counts=[2], checks=["variable_length"])
    with pytest.raises(CheckFailed, match="padding must be masked"):
        check()
    assert isinstance(CheckFailed("x"), AssertionError)  # pytest shows it as an assertion failure


def test_the_same_broken_architectures_pass_the_checks_they_do_not_break(broken_registry):
    report = run_checks(["variable_length", "cudnn_eligible"], registry=broken_registry, class_counts=[2],
                        checks=["softmax_head", "invalid_num_classes"])
    assert [r.status for r in report.results] == ["passed"] * 4


def test_run_checks_keeps_going_after_a_failure(broken_registry):
    report = run_checks(["softmax_head", "cudnn_eligible"], registry=broken_registry, class_counts=[2],
                        checks=["softmax_head", "cudnn_eligible"])
    assert [(r.check.id, r.status) for r in report.results] == [
        ("softmax_head-softmax_head-2", "failed"), ("softmax_head-cudnn_eligible", "passed"),
        ("cudnn_eligible-softmax_head-2", "passed"), ("cudnn_eligible-cudnn_eligible", "failed")]
    assert report.summary() == "4 checks run: 2 passed, 2 failed, 0 waived"


# -- lazy import -------------------------------------------------------------------------------------------------
def test_lazy_import_fails_for_a_plugin_module_that_imports_a_framework(tmp_path, monkeypatch, good_build):
    # the module marks TensorFlow as imported without paying 5 s for the real thing; the check looks at sys.modules
    (tmp_path / "zoo_heavy_plugin.py").write_text(
        "import sys, types\nsys.modules['tensorflow'] = types.ModuleType('tensorflow')\n")
    (tmp_path / "zoo_light_plugin.py").write_text("import json\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path), prepend=os.pathsep)
    heavy = zoo.Architecture("heavy", (), "", "heavy", "zoo-heavy", "1", "zoo_heavy_plugin", ("tokens",), {}, {},
                             good_build)
    with pytest.raises(CheckFailed) as e:
        check_lazy_import(heavy)
    assert str(e.value) == "importing zoo_heavy_plugin imports tensorflow; import it inside build() instead"
    light = zoo.Architecture("light", (), "", "light", "zoo-light", "1", "zoo_light_plugin", ("tokens",), {}, {},
                             good_build)
    assert check_lazy_import(light) is None
    missing = zoo.Architecture("gone", (), "", "gone", "zoo-gone", "1", "zoo_no_such_plugin", ("tokens",), {}, {},
                               good_build)
    with pytest.raises(CheckFailed) as e:
        check_lazy_import(missing)
    assert str(e.value) == ("importing zoo_no_such_plugin failed: [\"ModuleNotFoundError: No module named "
                            "'zoo_no_such_plugin'\"]")
    assert "zoo_heavy_plugin" not in sys.modules


def test_invalid_num_classes_check_passes_on_the_built_ins(registry):
    report = run_checks(registry=registry, checks=["invalid_num_classes"])
    assert [(r.check.id, r.status) for r in report.results] == [
        ("bilstm-invalid_num_classes", "passed"), ("lstm-invalid_num_classes", "passed"),
        ("stacked_lstm-invalid_num_classes", "passed")]


def test_probabilities_on_random_input_for_46_classes(registry):
    report = run_checks(["bilstm"], registry=registry, class_counts=[46], checks=["softmax_head", "batch_sizes"])
    assert [r.status for r in report.results] == ["passed", "passed"], [r.detail for r in report.results]
