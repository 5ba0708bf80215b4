"""Entry-point discovery, end to end in subprocesses: allow and deny lists, a broken third-party distribution, presets
from $ZOO_PRESETS and --presets, and `zoo check` with nothing to run (name clashes: test_plugin_conflicts.py).

Fake distributions are ``*.dist-info`` directories in tmp_path put on PYTHONPATH, which importlib.metadata reads like
a pip install. None of these commands imports TensorFlow, so each takes a fraction of a second.
"""

import json
import os
import re

import pytest

BUILTINS = ["bilstm", "lstm", "stacked_lstm"]

def names(proc):
    assert proc.returncode == 0, proc.stderr
    return [a["name"] for a in json.loads(proc.stdout)]


def plugins(proc):
    assert proc.returncode == 0, proc.stderr
    return {p["name"]: p for p in json.loads(proc.stdout)}


@pytest.fixture
def broken_dist(tmp_path, make_dist):
    return make_dist(tmp_path / "broken", "zoo-broken", "1.2.3", {"broken": "zoo_broken"},
                     {"zoo_broken.py": 'raise ImportError("needs libfoo >= 2")\n'})


BROKEN_WARNING = ("zoo: warning: plugin 'broken' (zoo-broken 1.2.3) failed to load: ImportError: needs libfoo >= 2; "
                  "it is skipped (disable it with ZOO_DISABLE_PLUGINS=broken).")


# -- allow and deny lists ----------------------------------------------------------------------------------------
def test_the_allowlist_loads_only_the_named_plugins(run_zoo):
    env = {"ZOO_LOAD_PLUGINS": "lstm, bilstm"}
    assert names(run_zoo("list", "--json", env=env)) == ["bilstm", "lstm"]
    status = plugins(run_zoo("plugins", "--json", env=env))
    assert {n: (p["status"], p["reason"]) for n, p in status.items() if n in ("lstm", "stacked_lstm")} == {
        "lstm": ("loaded", ""), "stacked_lstm": ("disabled", "not in ZOO_LOAD_PLUGINS")}
    assert all(p["status"] == "disabled" for n, p in status.items() if n not in ("lstm", "bilstm"))


def test_the_allowlist_takes_package_names(run_zoo):
    assert names(run_zoo("list", "--json", env={"ZOO_LOAD_PLUGINS": "keras-zoo"})) == BUILTINS


def test_disabled_plugins_are_skipped_and_shown_as_disabled(run_zoo):
    env = {"ZOO_DISABLE_PLUGINS": "stacked_lstm"}
    proc = run_zoo("list", "--json", env=env)
    assert "stacked_lstm" not in names(proc) and {"bilstm", "lstm"} <= set(names(proc))
    assert proc.stderr == ""
    status = plugins(run_zoo("plugins", "--json", env=env))
    assert status["stacked_lstm"] == {"name": "stacked_lstm", "package": "keras-zoo", "version": "0.1.0",
                                      "module": "zoo.plugins.stacked_lstm", "status": "disabled",
                                      "reason": "ZOO_DISABLE_PLUGINS", "architectures": [], "callbacks": []}
    proc = run_zoo("plugins", env=env)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("stacked_lstm "))
    assert row.split()[:4] == ["stacked_lstm", "keras-zoo", "0.1.0", "disabled:"]
    # the architecture of a disabled plugin is reported as such, with the way back (its catalog is read, not the
    # plugin imported)
    proc = run_zoo("info", "stacked", "--json", env={"ZOO_LOAD_PLUGINS": "keras-zoo", **env})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == ("zoo: error: Architecture 'stacked' is provided by plugin 'stacked_lstm' (keras-zoo 0.1.0), "
                           "which is disabled by ZOO_DISABLE_PLUGINS; remove 'stacked_lstm' from ZOO_DISABLE_PLUGINS "
                           "to use it.\n")


def test_an_architecture_outside_the_allowlist_says_how_to_load_it(run_zoo):
    proc = run_zoo("info", "basic", env={"ZOO_LOAD_PLUGINS": "bilstm"})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == ("zoo: error: Architecture 'basic' is provided by plugin 'lstm' (keras-zoo 0.1.0), which is "
                           "not loaded: ZOO_LOAD_PLUGINS does not name it; add 'lstm' to ZOO_LOAD_PLUGINS to use it.\n")


def test_an_unknown_name_notes_the_plugins_that_are_not_loaded(run_zoo, broken_dist):
    proc = run_zoo("info", "transformer", env={"PYTHONPATH": str(broken_dist), "ZOO_DISABLE_PLUGINS": "bilstm"})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.splitlines()[-1] == (
        "zoo: error: No architecture named 'transformer'. Run `zoo list` to see all "
        f"{len(names(run_zoo('list', '--json', env={'ZOO_DISABLE_PLUGINS': 'bilstm'})))}. Not loaded, so not "
        "searched: 'bilstm' (keras-zoo 0.1.0, disabled), 'broken' (zoo-broken 1.2.3, failed) (see `zoo plugins`).")


@pytest.mark.parametrize("env,warning", [
    ({"ZOO_LOAD_PLUGINS": "nosuch"}, "ZOO_LOAD_PLUGINS: no installed plugin or package is named 'nosuch' (so no "
                                     "plugin is loaded); known: "),
    ({"ZOO_LOAD_PLUGINS": "lstm,nosuch,other"}, "ZOO_LOAD_PLUGINS: no installed plugin or package is named 'nosuch', "
                                                "'other' (ignored); known: "),
    ({"ZOO_DISABLE_PLUGINS": "lstn"}, "ZOO_DISABLE_PLUGINS: no installed plugin or package is named 'lstn' "
                                      "(ignored); known: "),
])
def test_unknown_names_in_the_allow_and_deny_lists_are_one_warning_naming_the_known_ones(run_zoo, env, warning):
    proc = run_zoo("list", "--json", env=env)
    assert proc.returncode == 0
    [line] = proc.stderr.splitlines()
    assert line.startswith("zoo: warning: " + warning)
    known = line.split("; known: ")[1].rstrip(".").split(", ")
    assert {"bilstm", "keras-zoo", "lstm", "stacked_lstm"} <= set(known) and known == sorted(known)
    assert ("lstm" in names(proc)) == ("lstm" in env.get("ZOO_LOAD_PLUGINS", "lstm"))


def test_an_empty_allowlist_loads_nothing_and_says_nothing(run_zoo):
    proc = run_zoo("list", "--json", env={"ZOO_LOAD_PLUGINS": ""})
    assert (names(proc), proc.stderr) == ([], "")


# -- a broken third-party plugin ---------------------------------------------------------------------------------
def test_a_broken_plugin_warns_once_and_the_rest_keep_working(run_zoo, broken_dist):
    proc = run_zoo("list", env={"PYTHONPATH": str(broken_dist)})
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [BROKEN_WARNING]
    listed = [line.split()[0] for line in proc.stdout.splitlines()[2:]]
    assert set(BUILTINS) <= set(listed) and "broken" not in listed
    assert "Traceback" not in proc.stderr


def test_zoo_plugins_shows_the_broken_plugin_failed_with_its_reason(run_zoo, broken_dist):
    env = {"PYTHONPATH": str(broken_dist)}
    status = plugins(run_zoo("plugins", "--json", env=env))
    assert status["broken"] == {"name": "broken", "package": "zoo-broken", "version": "1.2.3", "module": "zoo_broken",
                                "status": "failed", "reason": "ImportError: needs libfoo >= 2", "architectures": [],
                                "callbacks": []}
    assert status["lstm"]["status"] == "loaded"
    proc = run_zoo("plugins", env=env)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("broken "))
    assert row.split()[:5] == ["broken", "zoo-broken", "1.2.3", "failed:", "ImportError:"]
    assert proc.stderr.splitlines() == [BROKEN_WARNING]


def test_a_disabled_broken_plugin_is_not_imported_and_not_warned_about(run_zoo, broken_dist):
    env = {"PYTHONPATH": str(broken_dist), "ZOO_DISABLE_PLUGINS": "broken"}
    proc = run_zoo("plugins", "--json", env=env)
    assert proc.stderr == ""
    assert plugins(proc)["broken"]["status"] == "disabled"


def test_the_python_api_reports_a_broken_plugin_as_a_zoo_warning(broken_dist):
    import subprocess
    import sys

    code = ("import warnings, zoo\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    names = zoo.list_architectures()\n"
            "print([(x.category.__name__, str(x.message)) for x in w], names)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(broken_dist), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    warned, listed = proc.stdout.split("] ", 1)
    assert warned + "]" == str([("ZooWarning", BROKEN_WARNING.removeprefix("zoo: warning: "))])
    assert all(f"'{n}'" in listed for n in BUILTINS)


# -- a working third-party distribution ------------------------------------------------------------------------
def test_a_working_third_party_distribution_is_listed_with_its_package_and_version(run_zoo, plugin_dist):
    path = plugin_dist("zoo-extra", "3.1.4", "extra", "extra")
    proc = run_zoo("list", "--json", env={"PYTHONPATH": str(path)})
    extra = next(a for a in json.loads(proc.stdout) if a["name"] == "extra")
    assert (extra["plugin"], extra["package"], extra["version"], extra["summary"]) == ("extra", "zoo-extra", "3.1.4",
                                                                                       "fake extra")
    assert proc.stderr == ""


# -- presets from the environment and the command line -----------------------------------------------------------
@pytest.fixture
def presets(write):
    return {
        "tiny": write("tiny.yaml", "presets:\n  tiny:\n    architecture: bidirectional\n    summary: tiny one\n"
                                   "    hyperparameters:\n      units: 8\n"),
        "deep": write("deep.yaml", "presets:\n  deep:\n    architecture: stacked\n    hyperparameters:\n"
                                   "      units: [32, 32, 16]\n"),
        "bad": write("bad.yaml", "presets:\n  tiny:\n    architecture: bilstm\n    hyperparameters:\n"
                                 "      units: -1\n"),
    }


def test_presets_from_the_environment_are_listed_and_described(run_zoo, presets):
    env = {"ZOO_PRESETS": os.pathsep.join([str(presets["tiny"]), str(presets["deep"])])}
    listed = {a["name"]: a for a in json.loads(run_zoo("list", "--json", env=env).stdout)}
    assert (listed["tiny"]["preset_of"], listed["tiny"]["summary"]) == ("bilstm", "tiny one")
    assert (listed["deep"]["preset_of"], listed["deep"]["summary"]) == (
        "stacked_lstm", "preset: stacked_lstm with units=[32, 32, 16]")
    proc = run_zoo("info", "tiny", "--json", env=env)
    info = json.loads(proc.stdout)
    assert (info["preset_of"], info["defaults"]["units"], info["defaults"]["vocab_size"]) == ("bilstm", 8, 5000)
    proc = run_zoo("list", env=env)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("tiny "))
    assert re.split(r"\s{2,}", row) == ["tiny", "-", "preset of bilstm", "tiny one"]


def test_presets_from_the_command_line_flag(run_zoo, presets):
    proc = run_zoo("--presets", presets["tiny"], "--presets", presets["deep"], "list", "--json")
    assert {"tiny", "deep"} <= set(names(proc))
    proc = run_zoo("--presets", presets["tiny"], "info", "tiny")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[:2] == ["tiny: tiny one", f"preset of: bilstm ({presets['tiny']})"]
    assert "tiny" not in names(run_zoo("list", "--json"))  # nothing persists between runs


def test_a_bad_preset_from_the_environment_is_one_line_naming_the_file(run_zoo, presets):
    proc = run_zoo("list", env={"ZOO_PRESETS": str(presets["bad"])})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"zoo: error: {presets['bad']}:2: preset 'tiny': Bad value -1 for hyperparameter 'units' "
                           "of 'bilstm': expected int, 1..4096. (from $ZOO_PRESETS)\n")


def test_a_bad_preset_from_the_flag_is_one_line_naming_the_file(run_zoo, presets):
    proc = run_zoo("--presets", presets["bad"], "list")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"zoo: error: {presets['bad']}:2: preset 'tiny': Bad value -1 for hyperparameter "
                                  "'units' of 'bilstm'")
    assert proc.stderr.count("\n") == 1


def test_a_bad_preset_from_the_flag_does_not_blame_the_environment(run_zoo, presets):
    proc = run_zoo("--presets", presets["bad"], "list")
    assert "$ZOO_PRESETS" not in proc.stderr


def test_a_missing_preset_file_is_one_line(run_zoo, tmp_path):
    proc = run_zoo("--presets", tmp_path / "nope.yaml", "list")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"zoo: error: {tmp_path / 'nope.yaml'}: file not found.")


# -- zoo check with nothing to run, and a failing check ----------------------------------------------------------
def test_zoo_check_with_every_selected_check_waived_fails_with_no_checks_run(run_zoo, plugin_dist):
    path = plugin_dist("zoo-waived", "1.0", "waived", "waived", waivers={"cudnn_eligible": "no recurrent layer"})
    proc = run_zoo("check", "waived", "--checks", "cudnn_eligible", env={"PYTHONPATH": str(path)})
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[1].split(None, 5) == ["waived", "cudnn_eligible", "-", "waived", "0.0s", "no recurrent layer"]
    assert lines[-1] == "0 checks run: 0 passed, 0 failed, 1 waived"
    assert proc.stderr == "zoo: error: no contract checks ran; a green run needs at least one.\n"


def test_zoo_check_exits_1_and_shows_the_reason_when_a_check_fails(run_zoo, plugin_dist):
    heavy = "import sys, types\nsys.modules.setdefault('tensorflow', types.ModuleType('tensorflow'))\n"
    path = plugin_dist("zoo-heavy", "1.0", "heavy", "heavy", prefix=heavy)
    proc = run_zoo("check", "heavy", "--checks", "lazy_import", env={"PYTHONPATH": str(path)})
    assert proc.returncode == 1
    row = proc.stdout.splitlines()[1]
    assert row.split(None, 4)[:4] == ["heavy", "lazy_import", "-", "failed"]
    assert row.endswith("CheckFailed: importing zoo_heavy imports tensorflow; import it inside build() instead")
    assert proc.stdout.splitlines()[-1] == "1 checks run: 0 passed, 1 failed, 0 waived"
    assert proc.stderr == ""
