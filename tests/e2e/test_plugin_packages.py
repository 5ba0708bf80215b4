"""A plugin package's own code, end to end through the installed `zoo` command: a bug in its build() is one line
naming the plugin, its package and version, the exception, and the file and line in the plugin where it was raised
(not Keras's); its own Keras layer passes `zoo check` save_load only when its catalog declares it under
custom_objects."""

import textwrap

import pytest

PACKAGE = """\
    from pathlib import Path

    import zoo

    from .blocks import body

    CATALOG = Path(__file__).with_name("zoo.yaml")


    def build(num_classes, hp):
        import keras

        inputs, x = zoo.sequence_inputs(hp)
        x = body(hp, x)
        return keras.Model(inputs, zoo.softmax_head(x, num_classes))


    @zoo.hookimpl
    def register_architectures(register):
        register("buggy", build, catalog=CATALOG)
"""

BLOCKS = """\
    def body(hp, x):
        import keras

        return kerass.layers.GRU(hp.units)(x)
"""


def test_a_bug_in_a_plugin_build_is_one_line_with_the_plugin_file_and_line(run_zoo, tmp_path, make_dist,
                                                                           fake_catalog_text):
    root = make_dist(tmp_path, "zoo-buggy", "0.1.0", {"buggy": "zoo_buggy"}, {
        "zoo_buggy/__init__.py": PACKAGE, "zoo_buggy/blocks.py": BLOCKS,
        "zoo_buggy/zoo.yaml": fake_catalog_text("buggy", ["buggy"]),
    })
    line = textwrap.dedent(BLOCKS).splitlines().index("    return kerass.layers.GRU(hp.units)(x)") + 1
    proc = run_zoo("info", "buggy", "--num-classes", "3", env={"PYTHONPATH": str(root)})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == ("zoo: error: plugin 'buggy' (zoo-buggy 0.1.0), architecture 'buggy': build failed with "
                           f"NameError: name 'kerass' is not defined (zoo_buggy/blocks.py:{line})\n")


ZOO_CHECK_PLUGIN = """\
    from pathlib import Path

    import zoo

    CATALOG = Path(__file__).with_name("zoo.yaml")


    def build(num_classes, hp):
        import keras

        from .layers import Doubler

        inputs, x = zoo.sequence_inputs(hp)
        x = keras.layers.GRU(hp.units)(x)
        return keras.Model(inputs, zoo.softmax_head(Doubler()(x), num_classes))


    @zoo.hookimpl
    def register_architectures(register):
        register("doubled", build, catalog=CATALOG)
"""

ZOO_CHECK_LAYERS = """\
    import keras


    @keras.saving.register_keras_serializable(package="zoo_doubled")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return 2 * x
"""


@pytest.mark.parametrize("declared", [False, True])
def test_zoo_check_on_an_installed_plugin_with_its_own_layer(run_zoo, tmp_path, make_dist, fake_catalog_text,
                                                             declared):
    catalog = fake_catalog_text("doubled", ["doubled"])
    if declared:
        catalog += '    custom_objects: ["zoo_doubled.layers:Doubler"]\n'
    root = make_dist(tmp_path, "zoo-doubled", "1.0", {"doubled": "zoo_doubled"}, {
        "zoo_doubled/__init__.py": ZOO_CHECK_PLUGIN, "zoo_doubled/layers.py": ZOO_CHECK_LAYERS,
        "zoo_doubled/zoo.yaml": catalog})
    proc = run_zoo("check", "doubled", "--class-counts", "2", "--checks", "save_load", env={"PYTHONPATH": str(root)})
    row = proc.stdout.splitlines()[1]
    if declared:
        assert proc.returncode == 0 and row.split()[:4] == ["doubled", "save_load", "2", "passed"], proc.stdout
    else:
        assert proc.returncode == 1
        assert row.endswith("CheckFailed: the saved model needs zoo_doubled.layers:Doubler, which the catalog does not "
                            "declare: list it under custom_objects: in architectures.doubled of "
                            f"{root / 'zoo_doubled' / 'zoo.yaml'} (custom_objects: [\"zoo_doubled.layers:Doubler\"])")
