"""Catalog and preset files: the real registry.yaml loads; every malformed file names FILE:LINE and the key path."""

import pytest

import zoo
from zoo.catalog import load_catalog, load_presets
from zoo.errors import CatalogError

# A valid one-entry catalog; each bad case below changes one thing in it. Line numbers are 1-based.
GOOD = """\
version: 1
architectures:
  foo:
    aliases: [f]
    summary: a foo
    plugin: foo
    inputs: [tokens]
    defaults:
      units: 8
    hyperparameters:
      units: {type: int, min: 1, max: 64}
"""


def test_the_real_registry_loads_with_the_reference_defaults():
    entries = load_catalog(zoo.BUILTIN_CATALOG)
    assert list(entries) == ["lstm", "stacked_lstm", "bilstm"]
    assert entries["lstm"].aliases == ("basic",)
    assert entries["stacked_lstm"].aliases == ("stacked", "stacked-dropout")
    assert entries["bilstm"].aliases == ("bidirectional",)
    # the reference design's values, plus the zoo's learning rates (chosen on the panel's held-out splits)
    assert entries["lstm"].defaults == {"vocab_size": 10000, "embed_dim": 64, "seq_len": 100, "units": 128,
                                        "optimizer": "adam", "learning_rate": 0.003}
    assert entries["stacked_lstm"].defaults == {"vocab_size": 10000, "embed_dim": 128, "seq_len": 200,
                                                "units": [256, 128], "dropout": 0.2, "optimizer": "rmsprop",
                                                "learning_rate": 0.003}
    assert entries["bilstm"].defaults == {"vocab_size": 5000, "embed_dim": 64, "seq_len": 150, "units": 64,
                                          "pooling": "last", "optimizer": "adam", "learning_rate": 0.003}
    for name, entry in entries.items():
        assert entry.plugin == name  # file stem, registered name, catalog key and plugin are one string
        assert entry.inputs == ("tokens", "features")
        assert entry.waivers == {}
    units = entries["stacked_lstm"].schema["units"]
    assert (units.type, units.min_length, units.describe()) == ("list[int]", 1, "list[int], 1..4096")


def test_the_built_in_catalog_is_the_project_registry_yaml():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert zoo.BUILTIN_CATALOG.read_bytes() == (root / "registry.yaml").read_bytes()


def test_the_good_fixture_is_valid(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    entry = load_catalog(path)["foo"]
    assert (entry.aliases, entry.summary, entry.defaults, entry.source) == (("f",), "a foo", {"units": 8}, str(path))


@pytest.mark.parametrize("old,new,message", [
    # invalid YAML syntax: the parser's line, no key to name
    ("summary: a foo", "summary: [a foo", "c.yaml:6: invalid YAML: did not find expected ',' or ']'."),
    ("    plugin: foo", "\tplugin: foo", "c.yaml:6: invalid YAML: found a tab character that violates indentation."),
    ("summary: a foo", "summary: !!python/object:os.system x",
     "c.yaml:5: invalid YAML: could not determine a constructor for the tag "),
    # unknown key in an entry
    ("    summary: a foo\n", "    summary: a foo\n    sumary: typo\n",
     "c.yaml:6: architectures.foo.sumary: unknown key; allowed keys: aliases, custom_objects, defaults, "
     "hyperparameters, inputs, plugin, summary, test_hyperparameters, waivers."),
    # bad param type / bad schema fields
    ("{type: int, min: 1, max: 64}", "{type: integer, min: 1, max: 64}",
     "c.yaml:11: architectures.foo.hyperparameters.units.type: expected one of int, float, str, bool, list[int], "
     "got 'integer'."),
    ("min: 1, max", "min: one, max", "c.yaml:11: architectures.foo.hyperparameters.units.min: expected a number, "
                                     "got str 'one'."),
    ("max: 64}", "max: 64, search: 3}", "c.yaml:11: architectures.foo.hyperparameters.units.search: expected a list "
                                        "of values or a mapping with min and max."),
    # defaults: out of range, wrong type, undeclared, missing
    ("units: 8", "units: 100", "c.yaml:9: architectures.foo.defaults.units: Bad value 100 for hyperparameter "
                               "'units' of 'foo': expected int, 1..64."),
    ("units: 8", "units: eight", "c.yaml:9: architectures.foo.defaults.units: Bad value 'eight' for hyperparameter "
                                 "'units' of 'foo': expected int, 1..64."),
    ("      units: 8\n", "      units: 8\n      depth: 2\n",
     "c.yaml:10: architectures.foo.defaults.depth: not a declared hyperparameter; declare it under "
     "`hyperparameters`."),
    ("      units: 8\n", "      optimizer: adam\n",
     "c.yaml:8: architectures.foo.defaults: no default for units; every hyperparameter needs one."),
    # duplicate keys, nested and top level
    ("    summary: a foo\n", "    summary: a foo\n    summary: again\n",
     "c.yaml:6: architectures.foo.summary: duplicate key; each key may appear once."),
    ("version: 1\n", "version: 1\nversion: 1\n", "c.yaml:2: version: duplicate key; each key may appear once."),
    # entry shape
    ("    summary: a foo\n", "", "c.yaml:3: architectures.foo: missing required key 'summary'."),
    ("  foo:", "  Foo:", "c.yaml:3: architectures.Foo: architecture names are lower-case letters, digits, '_' or "
                         "'-', starting with a letter."),
    ("[f]", "[F x]", "c.yaml:4: architectures.foo.aliases.0: bad alias 'F x': use lower-case letters, digits, "
                     "'_' or '-'."),
    ("[tokens]", "[tokens, images]", "c.yaml:7: architectures.foo.inputs.1: unknown input mode 'images'; expected "
                                     "tokens or features."),
    ("inputs: [tokens]", "inputs: []", "c.yaml:7: architectures.foo.inputs: an empty list; name at least one of "
                                       "tokens, features."),
    ("      units: {type", "      optimizer: {type: str}\n      units: {type",
     "c.yaml:11: architectures.foo.hyperparameters.optimizer: 'optimizer' is a zoo-wide hyperparameter; set its "
     "default under `defaults` instead."),
    ("version: 1", "version: 2", "c.yaml:1: version: unsupported catalog version 2; this zoo reads version 1."),
])
def test_a_malformed_catalog_names_file_line_and_key(tmp_path, old, new, message):
    assert old in GOOD
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(CatalogError) as e:
        load_catalog(path)
    assert str(e.value).startswith(f"{tmp_path}/{message}")


def test_custom_objects_are_module_colon_name_strings(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + '    custom_objects: ["zoo_foo.layers:MyLayer", "zoo_foo:Outer.Inner"]\n')
    assert load_catalog(path)["foo"].custom_objects == ("zoo_foo.layers:MyLayer", "zoo_foo:Outer.Inner")
    path.write_text(GOOD)
    assert load_catalog(path)["foo"].custom_objects == ()


@pytest.mark.parametrize("text,message", [
    ('    custom_objects: ["zoo_foo.layers.MyLayer"]\n', 'c.yaml:12: architectures.foo.custom_objects.0: expected '
                                                       '"module:ClassName" (e.g. "zoo_foo.layers:MyLayer"), got '
                                                       "'zoo_foo.layers.MyLayer'."),
    ("    custom_objects:\n      - zoo_foo:MyLayer\n      - 3\n", 'c.yaml:14: architectures.foo.custom_objects.1: '
                                                                 'expected "module:ClassName" (e.g. '
                                                                 '"zoo_foo.layers:MyLayer"), got 3.'),
    ("    custom_objects: zoo_foo:MyLayer\n", 'c.yaml:12: architectures.foo.custom_objects: expected a list of '
                                            '"module:ClassName" strings, got str'),
])
def test_malformed_custom_objects_name_file_line_and_key(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + text)
    with pytest.raises(CatalogError) as e:
        load_catalog(path)
    assert str(e.value).startswith(f"{tmp_path}/{message}")


@pytest.mark.parametrize("waivers,message", [
    ("    waivers: {softmax_head: because}\n",
     "c.yaml:12: architectures.foo.waivers.softmax_head: the softmax_head check cannot be waived."),
    ("    waivers:\n      save_load: ''\n", "c.yaml:13: architectures.foo.waivers.save_load: a waiver needs a written "
                                            "reason."),
    ("    waivers:\n      save_load:\n", "c.yaml:13: architectures.foo.waivers.save_load: a waiver needs a written "
                                         "reason."),
    ("    waivers:\n      save_load: '   '\n", "c.yaml:13: architectures.foo.waivers.save_load: a waiver needs a "
                                               "written reason."),
    ("    waivers: {sav_load: no serializer}\n", "c.yaml:12: architectures.foo.waivers.sav_load: no contract check "
                                                 "named 'sav_load'. Did you mean 'save_load'?"),
])
def test_waivers_need_a_reason_and_never_cover_the_softmax_head(tmp_path, waivers, message):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + waivers)
    with pytest.raises(CatalogError) as e:
        load_catalog(path)
    assert str(e.value) == f"{tmp_path}/{message}"


def test_a_waiver_with_a_reason_is_kept(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + "    waivers: {save_load: custom op has no serializer}\n")
    assert load_catalog(path)["foo"].waivers == {"save_load": "custom op has no serializer"}


@pytest.mark.parametrize("text,message", [
    ("- a\n- b\n", "c.yaml:1: (top level): expected a mapping with a top-level `architectures` key, got list "
                   "['a', 'b']."),
    ("", "c.yaml: (top level): expected a mapping with a top-level `architectures` key, got NoneType None."),
    ("just text\n", "c.yaml:1: (top level): expected a mapping with a top-level `architectures` key, got str "
                    "'just text'."),
    ("version: 1\n", "c.yaml:1: (top level): expected a mapping of name to entry, got NoneType None."),
    ("architectures: [lstm]\n", "c.yaml:1: architectures: expected a mapping of name to entry, got list ['lstm']."),
    ("version: 1\nmodels: {}\narchitectures: {}\n", "c.yaml:2: models: unknown key; allowed keys: architectures, "
                                                    "version."),
])
def test_a_catalog_that_is_not_a_mapping_of_entries_is_refused(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as e:
        load_catalog(path)
    assert str(e.value) == f"{tmp_path}/{message}"


def test_a_missing_catalog_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match=r"nope\.yaml: file not found\.$"):
        load_catalog(tmp_path / "nope.yaml")


def test_a_catalog_that_is_not_utf8_is_a_catalog_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"version: 1\narchitectures: {caf\xe9: 1}\n")
    with pytest.raises(CatalogError, match=r"c\.yaml: cannot read it as UTF-8 text"):
        load_catalog(path)


def test_test_hyperparameters_are_validated_like_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD + "    test_hyperparameters: {units: 0}\n")
    with pytest.raises(CatalogError) as e:
        load_catalog(path)
    assert str(e.value) == (f"{path}:12: architectures.foo.test_hyperparameters.units: Bad value 0 for "
                            "hyperparameter 'units' of 'foo': expected int, 1..64.")


# -- preset files ------------------------------------------------------------------------------------------------
def test_a_preset_file_reads_names_architectures_and_overrides(write):
    path = write("p.yaml", """\
        version: 1
        presets:
          tiny-bi:
            architecture: bidirectional
            summary: a tiny bilstm
            hyperparameters: {units: 8, vocab_size: 50}
          deep:
            architecture: stacked_lstm
            hyperparameters:
              units: [32, 32, 16]
    """)
    presets = load_presets(path)
    assert list(presets) == ["tiny-bi", "deep"]
    tiny, deep = presets["tiny-bi"], presets["deep"]
    assert (tiny.architecture, tiny.summary, tiny.hyperparameters) == ("bidirectional", "a tiny bilstm",
                                                                       {"units": 8, "vocab_size": 50})
    assert (deep.architecture, deep.summary, deep.hyperparameters) == ("stacked_lstm", "", {"units": [32, 32, 16]})
    assert (tiny.source, deep.source) == (f"{path}:3", f"{path}:7")


@pytest.mark.parametrize("text,message", [
    ("presets:\n  x:\n    architecture: lstm\n    hyperparams: {}\n",
     "p.yaml:4: presets.x.hyperparams: unknown key; allowed keys: architecture, hyperparameters, summary."),
    ("presets:\n  x:\n    hyperparameters: {}\n", "p.yaml:2: presets.x: expected an architecture name, got "
                                                  "NoneType None."),
    ("presets:\n  x:\n    architecture: lstm\n    hyperparameters: [units, 8]\n",
     "p.yaml:4: presets.x.hyperparameters: expected a mapping, got list ['units', 8]."),
    ("presets:\n  X Y:\n    architecture: lstm\n", "p.yaml:2: presets.X Y: preset names are lower-case letters, "
                                                   "digits, '_' or '-', starting with a letter."),
    ("presets: [1]\n", "p.yaml:1: presets: expected a mapping of preset name to preset, got list [1]."),
    ("version: 1\n", "p.yaml:1: (top level): expected a mapping of preset name to preset, got NoneType None."),
    ("architectures: {}\n", "p.yaml:1: architectures: unknown key; allowed keys: presets, version."),
    ("presets:\n  x: lstm\n", "p.yaml:2: presets.x: expected a mapping with `architecture` and `hyperparameters`, "
                              "got str 'lstm'."),
    ("presets:\n  x:\n    architecture: lstm\n  x:\n    architecture: bilstm\n",
     "p.yaml:4: presets.x: duplicate key; each key may appear once."),
    ("presets:\n  x: {architecture: lstm\n", "p.yaml:3: invalid YAML: "),
])
def test_a_malformed_preset_file_names_file_line_and_key(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as e:
        load_presets(path)
    assert str(e.value).startswith(f"{tmp_path}/{message}")
