"""Custom layers end to end on the plugin side: a catalog declares them as "module:ClassName" under custom_objects,
Architecture.load_custom_objects() imports them (with the zoo's own mask-aware layers), and the save_load check
reloads with only those, so a layer that is registered but not declared fails it with a message saying so."""

import pytest

import zoo
from zoo.errors import PluginError
from zoo.testing import run_checks

pytestmark = pytest.mark.usefixtures("keras_session")


def scaled(num_classes, hp):
    """Embedding -> LSTM -> the plugin's own Scale layer -> head."""
    import importlib

    import keras

    scale = importlib.import_module("zoo_test_custom_layers").Scale
    inputs, x = zoo.sequence_inputs(hp)
    x = keras.layers.LSTM(hp.units)(x)
    return keras.Model(inputs, zoo.softmax_head(scale(factor=3.0)(x), num_classes))


@pytest.fixture
def registry_with(make_plugin, fake_catalog_text, custom_layers):
    """``registry_with(declared)``: a registry of one plugin whose architecture 'scaled' uses the Scale layer and
    whose catalog declares ``declared`` under custom_objects."""

    def _make(declared):
        text = fake_catalog_text("scaled", ["scaled"])
        if declared is not None:
            text += f"    custom_objects: {declared}\n"
        plugin = make_plugin("scaled", {"scaled": scaled}, catalog_text=text)
        return zoo.Registry([("scaled", plugin, "zoo-scaled", "0.2")])

    return _make


def test_load_custom_objects_imports_the_declared_classes_and_the_zoo_layers(registry_with, custom_layers):
    arch = registry_with('["zoo_test_custom_layers:Scale"]').get("scaled")
    assert arch.custom_objects == ("zoo_test_custom_layers:Scale",)
    objects = arch.load_custom_objects()
    assert objects["zoo_tests>Scale"] is custom_layers.Scale
    assert objects["zoo>MaskedConv1D"] is zoo.layers.MaskedConv1D  # the zoo's own: always available
    assert registry_with(None).get("scaled").custom_objects == ()


def test_a_declared_object_that_does_not_import_is_one_plugin_error(registry_with):
    arch = registry_with('["zoo_test_custom_layers:Scael"]').get("scaled")
    with pytest.raises(PluginError) as e:
        arch.load_custom_objects()
    assert str(e.value) == (
        "plugin 'scaled' (zoo-scaled 0.2), architecture 'scaled': cannot import custom object "
        f"'zoo_test_custom_layers:Scael' (from custom_objects in {arch.catalog}): AttributeError: module "
        "'zoo_test_custom_layers' has no attribute 'Scael'")


def test_save_load_passes_when_the_layer_is_declared(registry_with):
    report = run_checks(["scaled"], registry=registry_with('["zoo_test_custom_layers:Scale"]'), class_counts=[3],
                        checks=["save_load"])
    assert [(r.status, r.detail) for r in report.results] == [("passed", "")]


def test_save_load_fails_a_registered_but_undeclared_layer_and_says_to_declare_it(registry_with, custom_layers):
    import keras

    reg = registry_with(None)
    report = run_checks(["scaled"], registry=reg, class_counts=[3], checks=["save_load"])
    [result] = report.results
    assert (result.status, result.detail) == ("failed", (
        "CheckFailed: the saved model needs zoo_test_custom_layers:Scale, which the catalog does not declare: list it "
        f"under custom_objects: in architectures.scaled of {reg.get('scaled').catalog} (custom_objects: "
        '["zoo_test_custom_layers:Scale"])'))
    # the check hid Keras's global registrations only while it loaded: they are all back
    assert keras.saving.get_custom_objects()["zoo_tests>Scale"] is custom_layers.Scale
