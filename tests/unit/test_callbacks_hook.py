"""The register_callbacks hook: plugins contribute training callbacks by name, isolated like architectures (a broken
one is reported, a name claimed twice is refused), built by make_callbacks(names, context) for one run.

Every test builds its own registry from explicit in-memory plugins; the callbacks are real Keras callbacks.
"""

import types
from pathlib import Path

import pytest

import zoo
from zoo.errors import PluginError, ZooError

pytestmark = pytest.mark.usefixtures("keras_session")


def make_tick(context):
    """A real Keras callback that remembers the context it was made for and counts the epochs it saw."""
    import keras

    epochs = []
    tick = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs=None: epochs.append(epoch))
    tick.context, tick.epochs = context, epochs
    return tick


def callback_plugin(name, registrations, *, raises=None, architectures=None, catalog=None):
    """An in-memory plugin module whose register_callbacks hook makes ``registrations`` (args, kwargs) calls."""
    module = types.ModuleType(f"fake_zoo_{name}")

    def register_callbacks(register):
        if raises is not None:
            raise raises
        for args, kwargs in registrations:
            register(*args, **kwargs)

    module.register_callbacks = zoo.hookimpl(register_callbacks)
    if architectures:
        def register_architectures(register):
            for arch, build in architectures.items():
                register(arch, build, catalog=catalog)

        module.register_architectures = zoo.hookimpl(register_architectures)
    return module


def tick_plugin(name="ticks", callback="tick", factory=make_tick):
    return callback_plugin(name, [((callback, factory), {"help": "count epochs"})])


@pytest.fixture
def context(tmp_path):
    return zoo.CallbackContext(tmp_path / "run", {"hyperparameters": {"units": 8}}, "lstm", seed=3)


def test_a_registered_callback_is_listed_and_made_for_the_run(builtin_plugins, context):
    reg = zoo.Registry([*builtin_plugins, ("ticks", tick_plugin(), "zoo-ticks", "1.0")])
    [spec] = reg.callbacks()
    assert (spec.name, spec.help, spec.plugin, spec.package, spec.version) == ("tick", "count epochs", "ticks",
                                                                               "zoo-ticks", "1.0")
    assert (reg.plugins["ticks"].status, reg.plugins["ticks"].callbacks, reg.plugins["ticks"].architectures) == (
        "loaded", ["tick"], [])
    [tick] = reg.make_callbacks(["tick"], context)
    assert tick.context is context and tick.context.run_dir == context.run_dir
    # it is a real callback: fit drives it
    import keras
    import numpy as np

    model = reg.get("lstm").build(2, vocab_size=20, embed_dim=4, seq_len=5, units=4, labels="sparse")
    model.fit(np.ones((4, 5), "int32"), np.array([0, 1, 0, 1]), epochs=3, callbacks=[tick], verbose=0)
    assert tick.epochs == [0, 1, 2] and isinstance(tick, keras.callbacks.Callback)


def test_a_factory_returning_none_adds_nothing(context):
    reg = zoo.Registry([("quiet", callback_plugin("quiet", [(("quiet", lambda ctx: None), {"help": "x"})]),
                         "zoo-quiet", "1")])
    assert reg.make_callbacks(["quiet"], context) == []


def test_an_unknown_callback_name_suggests_the_closest_and_runs_no_factory(context):
    made = []
    reg = zoo.Registry([("ticks", tick_plugin(factory=lambda ctx: made.append(ctx)), "zoo-ticks", "1.0")])
    with pytest.raises(ZooError) as e:
        reg.make_callbacks(["tick", "tik"], context)
    assert str(e.value) == "No callback named 'tik'. Did you mean 'tick'? Available: tick."
    assert made == []  # every name is checked before any factory runs
    with pytest.raises(ZooError, match=r"^No callback named 'mlflow'\. Available: tick\.$"):
        reg.get_callback("mlflow")


@pytest.mark.parametrize("registration,reason", [
    ((("Bad Name", make_tick), {"help": "x"}), "PluginError: register_callbacks: callback name 'Bad Name': use "
                                                "lower-case letters, digits, '_' or '-', starting with a letter (it "
                                                "becomes the `zoo train --NAME` flag)"),
    ((("tick", "not callable"), {"help": "x"}), "PluginError: register('tick', ...): factory must be callable, got "
                                                 "str"),
    ((("tick", make_tick), {}), "PluginError: register('tick', ...): help must be one line of text, got None"),
    ((("tick", make_tick), {"help": "two\nlines"}), "PluginError: register('tick', ...): help must be one line of "
                                                     "text, got 'two\\nlines'"),
])
def test_a_malformed_registration_fails_the_plugin_and_the_rest_work(builtin_plugins, registration, reason):
    reg = zoo.Registry([*builtin_plugins, ("bad", callback_plugin("bad", [registration]), "zoo-bad", "0.1")])
    assert (reg.plugins["bad"].status, reg.plugins["bad"].reason) == ("failed", reason)
    assert reg.warnings == [f"plugin 'bad' (zoo-bad 0.1) failed to load: {reason}; it is skipped (disable it with "
                            "ZOO_DISABLE_PLUGINS=bad)."]
    assert reg.callbacks() == [] and reg.names() == ["bilstm", "lstm", "stacked_lstm"]


def test_a_hook_that_raises_fails_only_its_plugin(context):
    reg = zoo.Registry([("boom", callback_plugin("boom", [], raises=RuntimeError("no server")), "zoo-boom", "2"),
                        ("ticks", tick_plugin(), "zoo-ticks", "1.0")])
    assert (reg.plugins["boom"].status, reg.plugins["boom"].reason) == ("failed", "RuntimeError: no server")
    assert len(reg.make_callbacks(["tick"], context)) == 1


def test_a_callback_name_claimed_by_two_plugins_refuses_both(context):
    reg = zoo.Registry([("a", tick_plugin("a"), "zoo-a", "1"), ("b", tick_plugin("b"), "zoo-b", "2")])
    assert {k: (p.status, p.reason) for k, p in reg.plugins.items()} == {
        "a": ("refused", "callback 'tick' is also defined by 'b' (zoo-b 2), so neither is loaded"),
        "b": ("refused", "callback 'tick' is also defined by 'a' (zoo-a 1), so neither is loaded")}
    with pytest.raises(ZooError) as e:
        reg.make_callbacks(["tick"], context)
    assert str(e.value) == ("Callback 'tick' is provided by plugin 'a' (zoo-a 1), which is refused (callback 'tick' is "
                            "also defined by 'b' (zoo-b 2), so neither is loaded); uninstall one of them, or disable "
                            "one with ZOO_DISABLE_PLUGINS=a or ZOO_DISABLE_PLUGINS=b.")


def test_a_plugin_refused_for_its_callback_provides_no_architecture_either(make_plugin, good_build, context):
    from zoo.plugins import tensorboard

    catalog = make_plugin("both", {"both_arch": good_build}).CATALOG
    both = callback_plugin("both", [(("tensorboard", make_tick), {"help": "mine"})],
                           architectures={"both_arch": good_build}, catalog=catalog)
    reg = zoo.Registry([("both", both, "zoo-both", "1"), ("tensorboard", tensorboard, "keras-zoo", "0.1.0")])
    assert (reg.plugins["both"].status, reg.plugins["both"].reason) == (
        "refused", "callback 'tensorboard' is already provided by 'tensorboard' (keras-zoo 0.1.0)")
    assert reg.names() == [] and [c.plugin for c in reg.callbacks()] == ["tensorboard"]


def test_a_factory_that_raises_or_returns_no_callback_is_a_plugin_error(context):
    def raises(ctx):
        raise OSError("tracking server unreachable")

    reg = zoo.Registry([("x", callback_plugin("x", [(("boom", raises), {"help": "h"}),
                                                     (("str", lambda ctx: "nope"), {"help": "h"})]), "zoo-x", "3")])
    with pytest.raises(PluginError) as e:
        reg.make_callbacks(["boom"], context)
    assert str(e.value) == ("plugin 'x' (zoo-x 3), callback 'boom': the factory failed with OSError: tracking server "
                            "unreachable")
    with pytest.raises(PluginError) as e:
        reg.make_callbacks(["str"], context)
    assert str(e.value) == ("plugin 'x' (zoo-x 3), callback 'str': the factory must return a "
                            "keras.callbacks.Callback or None, got str.")


def test_the_context_is_a_small_frozen_record(tmp_path):
    ctx = zoo.CallbackContext(tmp_path, {"seed": 1}, "bilstm", seed=1, is_chief=False)
    assert (ctx.run_dir, ctx.config, ctx.architecture, ctx.seed, ctx.is_chief) == (tmp_path, {"seed": 1}, "bilstm",
                                                                                  1, False)
    with pytest.raises(AttributeError):
        ctx.seed = 2
    assert isinstance(ctx.run_dir, Path)


def test_the_built_in_tensorboard_callback_is_registered_through_the_entry_point():
    assert "tensorboard" in zoo.list_callbacks()
    spec = zoo.default_registry().get_callback("tensorboard")
    assert (spec.plugin, spec.package) == ("tensorboard", "keras-zoo")
    assert spec.help == "write TensorBoard logs (loss and metrics per epoch) to RUN/logs"
