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


def test_a_run_of_a_custom_layer_plugin_predicts_and_exports_from_a_fresh_process_and_says_what_to_install(
        run_zoo, tmp_path, make_dist, fake_catalog_text):
    catalog = fake_catalog_text("doubled", ["doubled"]) + '    custom_objects: ["zoo_doubled.layers:Doubler"]\n'
    root = make_dist(tmp_path / "site", "zoo-doubled", "1.0", {"doubled": "zoo_doubled"}, {
        "zoo_doubled/__init__.py": ZOO_CHECK_PLUGIN, "zoo_doubled/layers.py": ZOO_CHECK_LAYERS,
        "zoo_doubled/zoo.yaml": catalog})
    (tmp_path / "train.txt").write_text("".join(f"{w} film {i};{'ab'[i % 2]}\n" for i, w in
                                                enumerate(["good", "bad"] * 30)))
    env = {"PYTHONPATH": str(root)}
    proc = run_zoo("train", "doubled", "--data", tmp_path / "train.txt", "--out", tmp_path / "run", "--steps", "20",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    config = __import__("json").loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"]["custom_objects"] == ["zoo_doubled.layers:Doubler"]
    assert (config["model"]["package"], config["model"]["version"]) == ("zoo-doubled", "1.0")
    # a fresh process: the layer class is registered only by importing the plugin's module, which zoo.load does
    proc = run_zoo("predict", tmp_path / "run", "good film", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert __import__("json").loads(proc.stdout)[0]["label"] in ("a", "b")
    # the same, with the plugin disabled: the run still loads (its layer comes from the installed package)
    proc = run_zoo("predict", tmp_path / "run", "good film", env={**env, "ZOO_DISABLE_PLUGINS": "doubled"})
    assert proc.returncode == 0, proc.stderr
    # exports of the run, each from a fresh process, pass their parity check (ONNX through Keras's exporter)
    for fmt in ("savedmodel", "onnx"):
        proc = run_zoo("export", tmp_path / "run", "--format", fmt, "--out", tmp_path / fmt, env=env)
        assert proc.returncode == 0, proc.stderr
        assert __import__("json").loads((tmp_path / fmt / "export.json").read_text())["max_difference"] <= 1e-5
    # without the plugin installed: one line saying what to install
    proc = run_zoo("predict", tmp_path / "run", "good film")
    assert proc.returncode == 2 and proc.stderr == (
        "zoo: error: this run was built by plugin 'doubled' (zoo-doubled 1.0), whose layer zoo_doubled.layers:Doubler "
        "cannot be imported (ModuleNotFoundError: No module named 'zoo_doubled'); pip install 'zoo-doubled==1.0'.\n")
