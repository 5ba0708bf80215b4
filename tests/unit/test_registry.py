"""The registry: names and aliases, glob filters, conflicting plugins refused (naming both packages), broken plugins
isolated, presets.

Every test builds its own ``zoo.Registry`` from explicit ``(name, module, package, version)`` plugins.
"""

from importlib.metadata import entry_points

import pytest

import zoo
from zoo.errors import CatalogError, UnknownArchitectureError


@pytest.fixture
def registry(builtin_plugins):
    return zoo.Registry(builtin_plugins)


# -- names -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alias,name", [
    ("basic", "lstm"), ("stacked", "stacked_lstm"), ("stacked-dropout", "stacked_lstm"),
    ("bidirectional", "bilstm"), ("bilstm", "bilstm"), (" BiLSTM ", "bilstm"),
])
def test_names_and_aliases_resolve_to_the_architecture(registry, alias, name):
    assert registry.get(alias).name == name


def test_an_architecture_entry_carries_its_metadata(registry):
    arch = registry.get("bidirectional")
    assert (arch.name, arch.aliases, arch.summary) == ("bilstm", ("bidirectional",),
                                                      "Embedding -> Bidirectional(LSTM) -> Dense softmax")
    assert (arch.plugin, arch.package, arch.version, arch.module) == ("bilstm", "keras-zoo", "0.1.0",
                                                                      "zoo.plugins.bilstm")
    assert arch.inputs == ("tokens", "features")
    assert arch.defaults == {"input": "tokens", "num_features": None, "labels": "categorical", "optimizer": "adam",
                             "learning_rate": 0.003, "precision": "float32", "vocab_size": 5000, "embed_dim": 64,
                             "seq_len": 150, "units": 64, "pooling": "last"}
    assert list(arch.schema) == ["input", "num_features", "labels", "optimizer", "learning_rate", "precision",
                                 "vocab_size", "embed_dim", "seq_len", "units", "pooling"]
    assert arch.preset_of is None
    assert registry.get("stacked").defaults["optimizer"] == "rmsprop"  # a catalog may change a zoo-wide default


def test_the_unknown_name_message_suggests_and_counts(registry):
    with pytest.raises(UnknownArchitectureError) as e:
        registry.get("bilstn")
    assert str(e.value) == "No architecture named 'bilstn'. Did you mean 'bilstm'? Run `zoo list` to see all 3."
    assert isinstance(e.value, zoo.ZooError)


def test_a_close_alias_suggests_its_canonical_name(registry):
    with pytest.raises(UnknownArchitectureError) as e:
        registry.get("stacked-dropuot")
    assert str(e.value) == ("No architecture named 'stacked-dropuot'. Did you mean 'stacked_lstm'? Run `zoo list` to "
                            "see all 3.")


def test_an_unknown_name_with_nothing_close_has_no_suggestion(registry):
    with pytest.raises(UnknownArchitectureError) as e:
        registry.get("transformer")
    assert str(e.value) == "No architecture named 'transformer'. Run `zoo list` to see all 3."


def test_a_name_that_is_not_a_string_is_refused(registry):
    with pytest.raises(UnknownArchitectureError, match=r"^Architecture names are strings, got 3\.$"):
        registry.get(3)


@pytest.mark.parametrize("pattern,names", [
    (None, ["bilstm", "lstm", "stacked_lstm"]),
    ("*lstm", ["bilstm", "lstm", "stacked_lstm"]),
    ("bi*", ["bilstm"]),
    ("?lstm", []),
    ("lstm", ["lstm"]),
    ("basic", []),  # a glob filters canonical names, not aliases
    ("*LSTM", []),  # case-sensitive, like the names
])
def test_names_filter_by_glob_and_are_sorted(registry, pattern, names):
    assert registry.names(pattern) == names


def test_architectures_are_sorted_by_name(registry):
    assert [a.name for a in registry.architectures()] == ["bilstm", "lstm", "stacked_lstm"]


def test_plugins_report_package_version_and_architectures(registry):
    assert {n: (p.package, p.version, p.status, p.architectures) for n, p in registry.plugins.items()} == {
        "lstm": ("keras-zoo", "0.1.0", "loaded", ["lstm"]),
        "stacked_lstm": ("keras-zoo", "0.1.0", "loaded", ["stacked_lstm"]),
        "bilstm": ("keras-zoo", "0.1.0", "loaded", ["bilstm"]),
    }
    assert registry.warnings == []


def test_the_built_ins_register_through_the_public_entry_point_group():
    eps = {ep.name: ep.value for ep in entry_points(group=zoo.ENTRY_POINT_GROUP)}
    assert zoo.ENTRY_POINT_GROUP == "zoo.plugins"
    assert {k: eps.get(k) for k in ("lstm", "stacked_lstm", "bilstm")} == {
        "lstm": "zoo.plugins.lstm", "stacked_lstm": "zoo.plugins.stacked_lstm", "bilstm": "zoo.plugins.bilstm"}


def test_the_default_registry_is_built_from_entry_points():
    arch = zoo.get("basic")
    assert (arch.name, arch.package, arch.module) == ("lstm", "keras-zoo", "zoo.plugins.lstm")
    assert {"bilstm", "lstm", "stacked_lstm"} <= set(zoo.list_architectures())
    assert zoo.list_architectures("bi*") == ["bilstm"]
    assert zoo.default_registry() is zoo.default_registry()  # built once per process


# -- conflicts: the claimant is refused, the rest of the zoo keeps working ---------------------------------------
BUILTINS = ["bilstm", "lstm", "stacked_lstm"]


def refusals(reg):
    return {key: (p.status, p.reason) for key, p in reg.plugins.items() if p.status != "loaded"}


@pytest.mark.parametrize("first", [False, True], ids=["added-last", "added-first"])
def test_a_plugin_claiming_a_built_in_name_is_refused_and_the_built_in_keeps_it(builtin_plugins, make_plugin,
                                                                                 good_build, first):
    other = ("other", make_plugin("other", {"bilstm": good_build, "extra": good_build}), "zoo-other", "1.2")
    reg = zoo.Registry([other, *builtin_plugins] if first else [*builtin_plugins, other])
    assert refusals(reg) == {"other": ("refused", "architecture 'bilstm' is already provided by 'bilstm' (keras-zoo "
                                                  "0.1.0)")}
    assert reg.warnings == ["plugin 'other' (zoo-other 1.2) is refused: architecture 'bilstm' is already provided by "
                            "'bilstm' (keras-zoo 0.1.0); uninstall zoo-other, or disable it with "
                            "ZOO_DISABLE_PLUGINS=other."]
    assert reg.names() == BUILTINS  # the whole plugin is refused: 'extra' too
    assert (reg.get("bilstm").package, reg.plugins["other"].architectures) == ("keras-zoo", [])
    with pytest.raises(UnknownArchitectureError) as e:
        reg.get("extra")
    assert str(e.value) == ("Architecture 'extra' is provided by plugin 'other' (zoo-other 1.2), which is refused "
                            "(architecture 'bilstm' is already provided by 'bilstm' (keras-zoo 0.1.0)); uninstall "
                            "zoo-other, or disable it with ZOO_DISABLE_PLUGINS=other.")


def test_a_name_that_collides_with_a_built_in_alias_is_refused(builtin_plugins, make_plugin, good_build):
    mine = make_plugin("mine", {"mine": good_build}, aliases={"mine": ["basic"]})
    bd = make_plugin("bd", {"bidirectional": good_build})
    reg = zoo.Registry([*builtin_plugins, ("mine", mine, "zoo-mine", "0.3"), ("bd", bd, "zoo-bd", "2")])
    assert refusals(reg) == {
        "mine": ("refused", "architecture 'basic' is already provided by 'lstm' (keras-zoo 0.1.0)"),
        "bd": ("refused", "architecture 'bidirectional' is already provided by 'bilstm' (keras-zoo 0.1.0)")}
    assert reg.get("basic").name == "lstm" and reg.get("bidirectional").name == "bilstm"


@pytest.mark.parametrize("order", [("aaa", "zzz"), ("zzz", "aaa")])
def test_two_third_party_plugins_claiming_one_name_are_both_refused_whatever_the_order(builtin_plugins, make_plugin,
                                                                                      good_build, order):
    plugins = {n: (n, make_plugin(n, {"shared": good_build, f"only_{n}": good_build}), f"zoo-{n}", "1.0")
               for n in ("aaa", "zzz")}
    bystander = ("mine", make_plugin("mine", {"mine": good_build}), "zoo-mine", "0.1")
    reg = zoo.Registry([plugins[order[0]], *builtin_plugins, bystander, plugins[order[1]]])
    assert refusals(reg) == {
        "aaa": ("refused", "architecture 'shared' is also defined by 'zzz' (zoo-zzz 1.0), so neither is loaded"),
        "zzz": ("refused", "architecture 'shared' is also defined by 'aaa' (zoo-aaa 1.0), so neither is loaded")}
    assert reg.names() == ["bilstm", "lstm", "mine", "stacked_lstm"]
    assert sorted(reg.warnings) == [
        f"plugin '{n}' (zoo-{n} 1.0) is refused: architecture 'shared' is also defined by '{o}' (zoo-{o} 1.0), so "
        f"neither is loaded; uninstall one of them, or disable one with ZOO_DISABLE_PLUGINS={n} or "
        f"ZOO_DISABLE_PLUGINS={o}." for n, o in (("aaa", "zzz"), ("zzz", "aaa"))]


def test_a_third_claimant_of_a_contested_name_is_refused_too(make_plugin, good_build):
    reg = zoo.Registry([(n, make_plugin(n, {"shared": good_build}), f"zoo-{n}", "1") for n in ("a", "b", "c")])
    assert {k: p.status for k, p in reg.plugins.items()} == {"a": "refused", "b": "refused", "c": "refused"}
    assert reg.plugins["b"].reason == ("architecture 'shared' is also defined by 'a' (zoo-a 1), 'c' (zoo-c 1), so "
                                       "neither is loaded")
    assert reg.names() == []


def test_a_plugin_registering_one_name_twice_is_failed(builtin_plugins, make_plugin, good_build):
    plugin = make_plugin("twice", {"twice": good_build}, aliases={"twice": ["twice"]})
    reg = zoo.Registry([*builtin_plugins, ("twice", plugin, "zoo-twice", "1.0")])
    assert refusals(reg) == {"twice": ("failed", "PluginError: it registers architecture 'twice' twice (as a name or "
                                                 "an alias)")}

# -- broken plugins are isolated ---------------------------------------------------------------------------------
def assert_failed_and_the_rest_work(reg, name, package, version, reason):
    info = reg.plugins[name]
    assert (info.status, info.reason, info.architectures) == ("failed", reason, [])
    assert reg.warnings == [f"plugin '{name}' ({package} {version}) failed to load: {reason}; it is skipped "
                            f"(disable it with ZOO_DISABLE_PLUGINS={name})."]
    assert reg.names() == ["bilstm", "lstm", "stacked_lstm"]
    assert reg.get("basic").name == "lstm"


def test_a_plugin_whose_hook_raises_is_failed_with_the_reason(builtin_plugins, make_plugin, good_build):
    bad = make_plugin("bad", {"mine": good_build}, raises=RuntimeError("boom."))
    reg = zoo.Registry([*builtin_plugins, ("bad", bad, "zoo-bad", "9.0")])
    assert_failed_and_the_rest_work(reg, "bad", "zoo-bad", "9.0", "RuntimeError: boom")


def test_a_misspelled_hookimpl_is_failed_naming_the_hook(builtin_plugins, make_plugin, good_build):
    typo = make_plugin("typo", {"mine": good_build}, hook="register_architecture")
    reg = zoo.Registry([*builtin_plugins, ("typo", typo, "zoo-typo", "1.0")])
    assert_failed_and_the_rest_work(reg, "typo", "zoo-typo", "1.0",
                                    "PluginError: hook 'register_architecture' matches no zoo hook (expected "
                                    "'register_architectures' or 'register_callbacks')")


def test_a_plugin_whose_catalog_lacks_its_entry_is_failed(builtin_plugins, make_plugin, good_build):
    plugin = make_plugin("gone", {"mine": good_build}, register_as={"mine": "absent"})
    reg = zoo.Registry([*builtin_plugins, ("gone", plugin, "zoo-gone", "1.0")])
    assert_failed_and_the_rest_work(reg, "gone", "zoo-gone", "1.0",
                                    f"CatalogError: {plugin.CATALOG}: no entry for architecture 'absent' (has: mine)")


def test_a_catalog_whose_plugin_field_mismatches_is_failed(builtin_plugins, make_plugin, good_build):
    plugin = make_plugin("wrong", {"mine": good_build}, catalog_plugin="right")
    reg = zoo.Registry([*builtin_plugins, ("wrong", plugin, "zoo-wrong", "1.0")])
    assert_failed_and_the_rest_work(reg, "wrong", "zoo-wrong", "1.0",
                                    f"CatalogError: {plugin.CATALOG}: architectures.mine.plugin is 'right' but plugin "
                                    "'wrong' registers it; make them the same string")


def test_a_plugin_with_a_malformed_catalog_is_failed_with_file_and_line(builtin_plugins, make_plugin, good_build):
    from pathlib import Path

    text = "version: 1\narchitectures:\n  mine:\n    summary: x\n    plugin: mine\n    defaults: {}\n" \
           "    hyperparameters: {units: {type: int}}\n"
    plugin = make_plugin("mine", {"mine": good_build}, catalog_text=text)
    reg = zoo.Registry([*builtin_plugins, ("mine", plugin, "zoo-mine", "1.0")])
    catalog = Path(plugin.CATALOG)
    assert_failed_and_the_rest_work(reg, "mine", "zoo-mine", "1.0",
                                    f"CatalogError: {catalog}:6: architectures.mine.defaults: no default for units; "
                                    "every hyperparameter needs one")


def test_a_plugin_registering_something_not_callable_is_failed(builtin_plugins, make_plugin):
    plugin = make_plugin("num", {"mine": 42})
    reg = zoo.Registry([*builtin_plugins, ("num", plugin, "zoo-num", "1.0")])
    assert_failed_and_the_rest_work(reg, "num", "zoo-num", "1.0",
                                    "PluginError: register('mine', ...): build must be callable, got int")


def test_a_plugin_with_one_bad_entry_registers_none(builtin_plugins, make_plugin, good_build):
    plugin = make_plugin("two", {"one": good_build, "two": good_build}, register_as={"two": "three"})
    reg = zoo.Registry([*builtin_plugins, ("two", plugin, "zoo-two", "1.0")])
    assert reg.plugins["two"].status == "failed"
    assert reg.names() == ["bilstm", "lstm", "stacked_lstm"]  # 'one' was fine but is not half-registered


def test_a_good_third_party_plugin_registers_beside_the_built_ins(builtin_plugins, make_plugin, good_build):
    plugin = make_plugin("mine", {"mine": good_build}, aliases={"mine": ["my-net"]})
    reg = zoo.Registry([*builtin_plugins, ("mine", plugin, "zoo-mine", "0.2")])
    arch = reg.get("my-net")
    assert (arch.name, arch.plugin, arch.package, arch.version, arch.module) == ("mine", "mine", "zoo-mine", "0.2",
                                                                                 "fake_zoo_mine")
    assert arch.builder is good_build
    assert reg.names() == ["bilstm", "lstm", "mine", "stacked_lstm"]
    with pytest.raises(UnknownArchitectureError, match=r"Run `zoo list` to see all 4\.$"):
        reg.get("nothing")


# -- presets -----------------------------------------------------------------------------------------------------
PRESETS = """\
    presets:
      tiny-bi:
        architecture: bidirectional
        summary: a tiny bilstm
        hyperparameters: {units: 8, vocab_size: 50}
      deep:
        architecture: stacked_lstm
        hyperparameters: {units: [32, 32, 16]}
"""


def test_presets_add_names_with_their_overrides(builtin_plugins, write):
    path = write("p.yaml", PRESETS)
    reg = zoo.Registry(builtin_plugins, presets=[path])
    assert reg.names() == ["bilstm", "deep", "lstm", "stacked_lstm", "tiny-bi"]
    tiny = reg.get("tiny-bi")
    assert (tiny.name, tiny.preset_of, tiny.summary, tiny.plugin, tiny.package) == (
        "tiny-bi", "bilstm", "a tiny bilstm", "bilstm", "keras-zoo")
    assert (tiny.defaults["units"], tiny.defaults["vocab_size"], tiny.defaults["embed_dim"]) == (8, 50, 64)
    assert tiny.hyperparameters(units=16).units == 16  # still overridable, still validated
    assert reg.get("deep").summary == "preset: stacked_lstm with units=[32, 32, 16]"
    assert reg.get("deep").hyperparameters().units == [32, 32, 16]
    assert reg.add_presets(write("q.yaml", "presets:\n  tiny-lstm:\n    architecture: basic\n")) == ["tiny-lstm"]
    assert reg.get("tiny-lstm").preset_of == "lstm"


@pytest.mark.parametrize("text,error,message", [
    ("presets:\n  x:\n    architecture: lstm\n    hyperparameters: {units: 0}\n", CatalogError,
     "p.yaml:2: preset 'x': Bad value 0 for hyperparameter 'units' of 'lstm': expected int, 1..4096."),
    ("presets:\n  x:\n    architecture: lstm\n    hyperparameters:\n      unit: 8\n", CatalogError,
     "p.yaml:2: preset 'x': Unknown hyperparameter 'unit' for 'lstm'. Did you mean 'units'? Valid: "),
    ("presets:\n  x:\n    architecture: lstn\n", UnknownArchitectureError,
     "p.yaml:2: preset 'x': architecture: No architecture named 'lstn'. Did you mean 'lstm'? Run `zoo list` to see "
     "all 3."),
    ("presets:\n  x:\n    architecture: bilstm\n    hyperparameters: {input: features}\n", CatalogError,
     "p.yaml:2: preset 'x': input='features' needs num_features"),
])
def test_a_bad_preset_is_an_error_naming_the_preset_file(builtin_plugins, tmp_path, text, error, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(error) as e:
        zoo.Registry(builtin_plugins, presets=[path])
    assert str(e.value).startswith(f"{tmp_path}/{message}")


def test_a_preset_named_like_an_architecture_is_an_error_naming_the_preset_file(builtin_plugins, write):
    path = write("p.yaml", "presets:\n  basic:\n    architecture: bilstm\n")
    with pytest.raises(CatalogError) as e:
        zoo.Registry(builtin_plugins, presets=[path])
    assert str(e.value) == (f"{path}:2: preset 'basic': the name is already taken by architecture 'lstm' (an alias of "
                            "it) from plugin 'lstm' (keras-zoo 0.1.0); rename the preset.")
