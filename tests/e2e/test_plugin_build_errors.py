"""A bug in a plugin's build(), end to end: one line naming the plugin, its package and version, the exception, and
the file and line in the plugin where it was raised (not Keras's), with exit status 2 and no traceback."""

import textwrap

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
