"""The CLI, called in-process (``zoo.cli.main``): tables, --json, one-line errors with exit status 2, `zoo check`."""

import json
import re

import pytest

import zoo
from zoo.cli import main

BUILTIN_ROWS = {
    "bilstm": ["bilstm", "bidirectional", "bilstm", "Embedding -> Bidirectional(LSTM) -> Dense softmax"],
    "lstm": ["lstm", "basic", "lstm", "Embedding -> LSTM -> Dense softmax (the reference basic model)"],
    "stacked_lstm": ["stacked_lstm", "stacked, stacked-dropout", "stacked_lstm",
                     "Embedding -> LSTM layers with dropout between them -> Dense softmax"],
}


@pytest.fixture(autouse=True)
def no_user_presets(monkeypatch):
    for var in ("ZOO_PRESETS", "ZOO_LOAD_PLUGINS", "ZOO_DISABLE_PLUGINS"):
        monkeypatch.delenv(var, raising=False)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cells(line):
    return re.split(r"\s{2,}", line.strip())


def assert_one_line_error(code, out, err, message):
    assert code == 2
    assert out == ""
    assert err == f"zoo: error: {message}\n"
    assert "Traceback" not in err


# -- list --------------------------------------------------------------------------------------------------------
def test_list_prints_a_table_of_name_aliases_plugin_summary(capsys):
    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert cells(lines[0]) == ["name", "aliases", "plugin", "summary"]
    assert set(lines[1]) == {"-", " "}
    rows = {cells(line)[0]: cells(line) for line in lines[2:]}
    assert list(rows) == zoo.list_architectures()  # sorted, one row per architecture
    for name, row in BUILTIN_ROWS.items():
        assert rows[name] == row
    # columns line up: every row starts its summary where the header's does
    col = lines[0].index("summary")
    assert all(line[col - 2:col] == "  " and line[col] != " " for line in lines[2:])


def test_list_filters_by_glob(capsys):
    code, out, _ = run(capsys, "list", "*lstm")
    assert code == 0
    assert [cells(line)[0] for line in out.splitlines()[2:]] == ["bilstm", "lstm", "stacked_lstm"]
    code, out, _ = run(capsys, "list", "nothing*")
    assert (code, len(out.splitlines())) == (0, 2)  # header and rule only


def test_list_json_is_an_array_of_objects_with_the_documented_keys(capsys):
    code, out, err = run(capsys, "list", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [d["name"] for d in data] == zoo.list_architectures()
    for d in data:
        assert {"name", "aliases", "plugin", "summary"} <= set(d)
    by_name = {d["name"]: d for d in data}
    assert by_name["stacked_lstm"] == {"name": "stacked_lstm", "aliases": ["stacked", "stacked-dropout"],
                                       "plugin": "stacked_lstm", "package": "keras-zoo", "version": "0.1.0",
                                       "summary": BUILTIN_ROWS["stacked_lstm"][3], "preset_of": None}


# -- info --------------------------------------------------------------------------------------------------------
def test_info_shows_provider_defaults_and_hyperparameters(capsys):
    code, out, err = run(capsys, "info", "bidirectional")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == [
        "bilstm: Embedding -> Bidirectional(LSTM) -> Dense softmax",
        "aliases: bidirectional",
        "provided by: plugin 'bilstm' (keras-zoo 0.1.0, module zoo.plugins.bilstm)",
        "inputs: tokens, features",
    ]
    assert "parameters" not in out  # only with --num-classes
    rows = {cells(line)[0]: cells(line) for line in lines[6:]}
    assert cells(lines[5]) == ["hyperparameter", "default", "type", "help"]
    assert rows["units"] == ["units", "64", "int, 1..4096", "LSTM units in each direction"]
    assert rows["seq_len"] == ["seq_len", "150", "int, 1..1000000, or null",
                               "timesteps per example; null = variable length"]
    assert rows["optimizer"][:3] == ["optimizer", '"adam"', "str in {adam, adamw, nadam, rmsprop, sgd}"]
    assert rows["learning_rate"][:2] == ["learning_rate", "0.003"]  # set by the catalog (Keras's default: null)


@pytest.mark.parametrize("name,count", [("lstm", "739,590"), ("stacked", "1,872,134"), ("bilstm", "386,822")])
def test_info_num_classes_prints_the_parameter_count(capsys, name, count):
    code, out, err = run(capsys, "info", name, "--num-classes", "6")
    assert (code, err) == (0, "")
    assert f"\nparameters for num_classes=6: {count}\n" in out


def test_info_json(capsys):
    code, out, _ = run(capsys, "info", "stacked", "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["name"], info["plugin"], info["package"], info["module"]) == (
        "stacked_lstm", "stacked_lstm", "keras-zoo", "zoo.plugins.stacked_lstm")
    assert info["defaults"]["units"] == [256, 128]
    assert {"name": "units", "type": "list[int], 1..4096", "default": [256, 128],
            "help": "units of each LSTM layer, first to last"} in info["hyperparameters"]
    assert "parameters" not in info
    assert (info["custom_objects"], info["catalog"]) == ([], str(zoo.BUILTIN_CATALOG))
    code, out, _ = run(capsys, "info", "lstm", "--json", "--num-classes", "6")
    assert json.loads(out)["parameters"] == 739_590


# -- errors ------------------------------------------------------------------------------------------------------
def test_an_unknown_name_is_one_line_on_stderr_and_exit_2(capsys):
    n = len(zoo.list_architectures())
    assert_one_line_error(*run(capsys, "info", "bilstn"),
                          f"No architecture named 'bilstn'. Did you mean 'bilstm'? Run `zoo list` to see all {n}.")
    code, _, err = run(capsys, "check", "bilstn")  # stdout may hold the table header
    assert (code, err) == (2, f"zoo: error: No architecture named 'bilstn'. Did you mean 'bilstm'? Run `zoo list` to "
                              f"see all {n}.\n")


def test_bad_num_classes_is_one_line_and_exit_2(capsys):
    assert_one_line_error(*run(capsys, "info", "lstm", "--num-classes", "1"),
                          "num_classes must be an integer >= 2 (a softmax over one class is always 1.0), got 1.")


def test_an_unknown_check_is_one_line_and_exit_2(capsys):
    code, out, err = run(capsys, "check", "lstm", "--checks", "softmax_head,sav_load")
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("zoo: error: Unknown check(s): sav_load. Valid: softmax_head, mixed_precision, ")
    assert err.count("\n") == 1
    assert out == ""  # no table header before the error


@pytest.mark.parametrize("argv,tail", [
    (["check", "--class-counts", "a,b"], "zoo check: error: argument --class-counts: expected comma-separated "
                                         "integers, got 'a,b'"),
    (["frobnicate"], "zoo: error: argument COMMAND: invalid choice: 'frobnicate'"),
    ([], "zoo: error: the following arguments are required: COMMAND"),
])
def test_usage_errors_exit_2_without_a_traceback(capsys, argv, tail):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.splitlines()[-1].startswith(tail)
    assert "Traceback" not in err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert (e.value.code, capsys.readouterr().out) == (0, f"zoo {zoo.__version__}\n")
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    for command in ("list", "info", "plugins", "check", "new"):
        assert re.search(rf"^\s+{command}\s+\S", out, re.M), command


# -- plugins -----------------------------------------------------------------------------------------------------
def test_plugins_lists_package_version_and_status(capsys):
    code, out, err = run(capsys, "plugins")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert cells(lines[0]) == ["plugin", "package", "version", "status", "architectures", "callbacks"]
    rows = {cells(line)[0]: cells(line) for line in lines[2:]}
    for name in ("lstm", "stacked_lstm", "bilstm"):
        assert rows[name] == [name, "keras-zoo", "0.1.0", "loaded", name, "-"]
    code, out, _ = run(capsys, "plugins", "--json")
    data = {p["name"]: p for p in json.loads(out)}
    assert data["bilstm"] == {"name": "bilstm", "package": "keras-zoo", "version": "0.1.0",
                              "module": "zoo.plugins.bilstm", "status": "loaded", "reason": "",
                              "architectures": ["bilstm"], "callbacks": []}


# -- check -------------------------------------------------------------------------------------------------------
def test_check_prints_a_table_and_the_number_of_checks_run(capsys):
    code, out, err = run(capsys, "check", "lstm", "--class-counts", "3", "--checks",
                         "softmax_head,invalid_num_classes")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert cells(lines[0]) == ["architecture", "check", "n", "status", "time"]
    assert [cells(line)[:4] for line in lines[1:3]] == [["lstm", "softmax_head", "3", "passed"],
                                                        ["lstm", "invalid_num_classes", "-", "passed"]]
    assert all(re.fullmatch(r"\d+\.\ds", cells(line)[4]) for line in lines[1:3])
    assert lines[3:] == ["2 checks run: 2 passed, 0 failed, 0 waived"]


def test_check_with_no_class_counts_and_only_per_class_checks_runs_nothing_and_fails(capsys):
    code, out, err = run(capsys, "check", "lstm", "--class-counts", "", "--checks", "softmax_head")
    assert code == 1
    assert out.splitlines()[-1] == "0 checks run: 0 passed, 0 failed, 0 waived"
    assert err == "zoo: error: no contract checks ran; a green run needs at least one.\n"


# -- new ---------------------------------------------------------------------------------------------------------
def test_new_scaffolds_a_package_and_refuses_to_overwrite(capsys, tmp_path):
    code, out, err = run(capsys, "new", "zoo-foo", "--dir", str(tmp_path))
    target = tmp_path / "zoo-foo"
    assert (code, err) == (0, "")
    assert out == f'Created {target}. Next: pip install -e "{target}[test]" && zoo check foo && pytest {target}\n'
    assert (target / "zoo_foo" / "__init__.py").is_file()
    before = (target / "pyproject.toml").read_text()
    assert_one_line_error(*run(capsys, "new", "zoo-foo", "--dir", str(tmp_path)),
                          f"{target} already exists; choose another --dir or remove it first.")
    assert (target / "pyproject.toml").read_text() == before


@pytest.mark.parametrize("argv,message", [
    (["new", "1zoo"], "Bad package name '1zoo': use letters, digits, '-', '_' or '.', starting with a letter."),
    (["new", "zoo-x", "--name", "Bad-Name"], "Bad architecture name 'Bad-Name': use lower-case letters, digits and "
                                             "'_', starting with a letter (pass --name)."),
])
def test_new_refuses_bad_names(capsys, tmp_path, argv, message):
    assert_one_line_error(*run(capsys, *argv, "--dir", str(tmp_path)), message)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("package,name", [("zoo-attention-lstm", "attention_lstm"), ("zoo_foo", "foo")])
def test_new_suggests_installing_with_the_test_extra_checking_and_testing(capsys, tmp_path, package, name):
    code, out, _ = run(capsys, "new", package, "--dir", str(tmp_path))
    assert code == 0
    assert out.rstrip("\n").endswith(f'pip install -e "{tmp_path / package}[test]" && zoo check {name} && pytest '
                                      f"{tmp_path / package}")


def test_new_takes_a_template_and_refuses_a_taken_name(capsys, tmp_path):
    code, out, err = run(capsys, "new", "zoo-pool", "--template", "attention", "--dir", str(tmp_path))
    assert (code, err) == (0, "")
    assert "AttentionPooling1D" in (tmp_path / "zoo-pool" / "zoo_pool" / "__init__.py").read_text()
    assert_one_line_error(*run(capsys, "new", "zoo-bilstm", "--dir", str(tmp_path)),
                          "The name 'bilstm' is taken by architecture 'bilstm' from plugin 'bilstm' (keras-zoo 0.1.0); "
                          "a plugin using it would be refused. Pass --name NAME to choose another.")
    assert not (tmp_path / "zoo-bilstm").exists()
