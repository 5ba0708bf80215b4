"""Name clashes between installed distributions, end to end: the claimant is refused, `zoo plugins` shows it with
its package, version and the reason, and the rest of the zoo keeps working with exit status 0.

A built-in (package keras-zoo) always keeps its names; between two third-party packages neither wins, whatever
their alphabetical order. Two packages declaring one entry-point name both get rows; the deny list applies first,
so disabling one of them settles it.
"""

import json

import pytest

BUILTINS = ["bilstm", "lstm", "stacked_lstm"]


def listed(proc):
    assert proc.returncode == 0, proc.stderr
    return [a["name"] for a in json.loads(proc.stdout)]


def plugin_rows(proc):
    """`zoo plugins --json` as {(name, package): row}: two packages may declare one plugin name."""
    assert proc.returncode == 0, proc.stderr
    return {(p["name"], p["package"]): p for p in json.loads(proc.stdout)}


def pythonpath(*dirs):
    import os

    return {"PYTHONPATH": os.pathsep.join(map(str, dirs))}


# -- architecture names ------------------------------------------------------------------------------------------
def test_a_plugin_claiming_a_built_in_name_is_refused_and_the_zoo_keeps_working(run_zoo, plugin_dist):
    env = pythonpath(plugin_dist("zoo-lstm2", "0.5", "lstm2", ["lstm", "lstm_two"]))
    warning = ("zoo: warning: plugin 'lstm2' (zoo-lstm2 0.5) is refused: architecture 'lstm' is already provided by "
               "'lstm' (keras-zoo 0.1.0); uninstall zoo-lstm2, or disable it with ZOO_DISABLE_PLUGINS=lstm2.")
    proc = run_zoo("list", "--json", env=env)
    assert proc.stderr.splitlines() == [warning]
    assert set(BUILTINS) <= set(listed(proc)) and "lstm_two" not in listed(proc)
    info = run_zoo("info", "lstm", "--json", env=env)
    assert (info.returncode, json.loads(info.stdout)["package"]) == (0, "keras-zoo")
    rows = plugin_rows(run_zoo("plugins", "--json", env=env))
    assert rows["lstm2", "zoo-lstm2"] == {
        "name": "lstm2", "package": "zoo-lstm2", "version": "0.5", "module": "zoo_lstm2", "status": "refused",
        "reason": "architecture 'lstm' is already provided by 'lstm' (keras-zoo 0.1.0)", "architectures": [],
        "callbacks": []}
    assert rows["lstm", "keras-zoo"]["status"] == "loaded"
    table = run_zoo("plugins", env=env)
    row = next(line for line in table.stdout.splitlines() if line.startswith("lstm2 "))
    assert row.split()[:4] == ["lstm2", "zoo-lstm2", "0.5", "refused:"]
    assert "architecture 'lstm' is already provided by 'lstm' (keras-zoo 0.1.0)" in row
    # the refused plugin's other architecture is explained, not "no architecture named"
    proc = run_zoo("info", "lstm_two", env=env)
    assert (proc.returncode, proc.stderr.splitlines()[-1]) == (2, (
        "zoo: error: Architecture 'lstm_two' is provided by plugin 'lstm2' (zoo-lstm2 0.5), which is refused "
        "(architecture 'lstm' is already provided by 'lstm' (keras-zoo 0.1.0)); uninstall zoo-lstm2, or disable it "
        "with ZOO_DISABLE_PLUGINS=lstm2."))


def test_someone_elses_conflict_does_not_fail_zoo_check(run_zoo, plugin_dist):
    env = pythonpath(plugin_dist("zoo-lstm2", "0.5", "lstm2", "lstm"))
    proc = run_zoo("check", "lstm", "--checks", "lazy_import", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "1 checks run: 1 passed, 0 failed, 0 waived"


def test_an_alias_claiming_a_built_in_name_is_refused(run_zoo, plugin_dist):
    env = pythonpath(plugin_dist("zoo-mine", "0.3", "mine", "mine", aliases={"mine": ["basic"]}))
    rows = plugin_rows(run_zoo("plugins", "--json", env=env))
    assert (rows["mine", "zoo-mine"]["status"], rows["mine", "zoo-mine"]["reason"]) == (
        "refused", "architecture 'basic' is already provided by 'lstm' (keras-zoo 0.1.0)")
    names = listed(run_zoo("list", "--json", env=env))
    assert set(BUILTINS) <= set(names) and "mine" not in names


@pytest.mark.parametrize("packages", [("zoo-aaa", "zoo-zzz"), ("zoo-zzz", "zoo-aaa")])
def test_two_third_party_packages_claiming_one_name_are_both_refused(run_zoo, plugin_dist, packages):
    first, second = packages  # which one comes first on sys.path must not matter
    dirs = [plugin_dist(p, "1.0", p.removeprefix("zoo-"), ["shared", f"own_{p.removeprefix('zoo-')}"])
            for p in packages]
    env = pythonpath(*dirs)
    proc = run_zoo("list", "--json", env=env)
    names = listed(proc)
    assert "shared" not in names and "own_aaa" not in names and "own_zzz" not in names
    assert set(BUILTINS) <= set(names)
    assert sorted(proc.stderr.splitlines()) == [
        "zoo: warning: plugin 'aaa' (zoo-aaa 1.0) is refused: architecture 'shared' is also defined by 'zzz' (zoo-zzz "
        "1.0), so neither is loaded; uninstall one of them, or disable one with ZOO_DISABLE_PLUGINS=aaa or "
        "ZOO_DISABLE_PLUGINS=zzz.",
        "zoo: warning: plugin 'zzz' (zoo-zzz 1.0) is refused: architecture 'shared' is also defined by 'aaa' (zoo-aaa "
        "1.0), so neither is loaded; uninstall one of them, or disable one with ZOO_DISABLE_PLUGINS=zzz or "
        "ZOO_DISABLE_PLUGINS=aaa."]
    rows = plugin_rows(run_zoo("plugins", "--json", env=env))
    assert {k: (r["status"], r["version"]) for k, r in rows.items() if r["package"] in packages} == {
        ("aaa", "zoo-aaa"): ("refused", "1.0"), ("zzz", "zoo-zzz"): ("refused", "1.0")}
    proc = run_zoo("info", "shared", env=env)
    assert proc.returncode == 2 and "which is refused (architecture 'shared' is also defined by" in proc.stderr
    # the way out the message offers works
    env["ZOO_DISABLE_PLUGINS"] = "zzz"
    proc = run_zoo("list", "--json", env=env)
    assert {"shared", "own_aaa"} <= set(listed(proc)) and proc.stderr == ""


# -- entry-point names -------------------------------------------------------------------------------------------
def test_a_package_declaring_a_built_in_plugin_name_is_refused_and_both_are_shown(run_zoo, plugin_dist):
    env = pythonpath(plugin_dist("zoo-impostor", "2.0", "bilstm", "impostor"))
    proc = run_zoo("list", "--json", env=env)
    assert set(BUILTINS) <= set(listed(proc)) and "impostor" not in listed(proc)
    assert proc.stderr.splitlines() == [
        "zoo: warning: plugin 'bilstm' (zoo-impostor 2.0) is refused: plugin name 'bilstm' is already declared by "
        "keras-zoo 0.1.0; uninstall zoo-impostor, or disable it with ZOO_DISABLE_PLUGINS=zoo-impostor."]
    rows = plugin_rows(run_zoo("plugins", "--json", env=env))
    assert (rows["bilstm", "keras-zoo"]["status"], rows["bilstm", "keras-zoo"]["architectures"]) == ("loaded",
                                                                                                      ["bilstm"])
    assert {k: rows["bilstm", "zoo-impostor"][k] for k in ("version", "status", "reason")} == {
        "version": "2.0", "status": "refused", "reason": "plugin name 'bilstm' is already declared by keras-zoo 0.1.0"}
    table = run_zoo("plugins", env=env).stdout.splitlines()
    assert [line.split()[:3] for line in table if line.startswith("bilstm ")] == [
        ["bilstm", "keras-zoo", "0.1.0"], ["bilstm", "zoo-impostor", "2.0"]]


def test_two_third_party_packages_declaring_one_plugin_name_and_the_deny_list_settles_it(run_zoo, plugin_dist):
    dirs = [plugin_dist("zoo-one", "1.0", "twin", "twin_one"), plugin_dist("zoo-two", "2.0", "twin", "twin_two")]
    env = pythonpath(*dirs)
    proc = run_zoo("plugins", "--json", env=env)
    rows = plugin_rows(proc)
    assert {k: (r["version"], r["status"], r["reason"]) for k, r in rows.items() if k[0] == "twin"} == {
        ("twin", "zoo-one"): ("1.0", "refused", "plugin name 'twin' is also declared by zoo-two 2.0, so neither is "
                                                "loaded"),
        ("twin", "zoo-two"): ("2.0", "refused", "plugin name 'twin' is also declared by zoo-one 1.0, so neither is "
                                                "loaded")}
    assert proc.stderr.splitlines()[0].endswith(
        "uninstall one of them, or disable one with ZOO_DISABLE_PLUGINS=zoo-one or ZOO_DISABLE_PLUGINS=zoo-two.")
    assert not {"twin_one", "twin_two"} & set(listed(run_zoo("list", "--json", env=env)))
    # the deny list applies before the clash is settled: disabling one package loads the other
    env["ZOO_DISABLE_PLUGINS"] = "zoo-one"
    proc = run_zoo("plugins", "--json", env=env)
    rows = plugin_rows(proc)
    assert (rows["twin", "zoo-one"]["status"], rows["twin", "zoo-two"]["status"]) == ("disabled", "loaded")
    assert proc.stderr == ""
    assert "twin_two" in listed(run_zoo("list", "--json", env=env))
