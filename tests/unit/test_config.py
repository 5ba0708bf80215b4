"""The typed training config: the `zoo train` flags are its fields, config.json round-trips, --resume compares."""

import argparse
import dataclasses

import pytest

from zoo.cli import build_parser
from zoo.config import DataOptions, TrainConfig, train_config_from_args
from zoo.errors import ZooError


def train_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["train"]


def test_every_cli_field_has_exactly_one_train_flag_and_nothing_else_does():
    flags = {opt for action in train_parser()._actions for opt in action.option_strings}
    import zoo

    own = {"-h", "--help", "--resume", "--overwrite", "--json"}  # how to run, not what the run is
    own |= {"--callback"} | {f"--{name}" for name in zoo.list_callbacks()}  # TrainConfig.callbacks, from plugins
    expected = set()
    for cls in (TrainConfig, DataOptions):
        for f in dataclasses.fields(cls):
            if f.metadata.get("cli", True):
                expected.add(f.metadata.get("negative") or f.metadata.get("flag") or "--" + f.name.replace("_", "-"))
    assert flags - own == expected


def test_flags_left_out_give_the_dataclass_defaults():
    args = train_parser().parse_args(["bilstm"])
    assert train_config_from_args(args, {}) == TrainConfig("bilstm")


def test_flags_given_land_in_their_fields():
    args = train_parser().parse_args(["lstm", "--data", "d.csv", "--epochs", "7", "--no-bucket", "--sep", "|",
                                      "--allow-pickle", "--seed", "3", "--class-weight", "balanced"])
    config = train_config_from_args(args, {"units": 8})
    assert config == TrainConfig("lstm", data="d.csv", epochs=7, bucket=False, seed=3, class_weight="balanced",
                                 hyperparameters={"units": 8},
                                 data_options=DataOptions(sep="|", allow_pickle=True))


def test_the_serialized_form_loads_back_into_the_same_type():
    config = TrainConfig("stacked", data="a.txt", test="b.txt", hyperparameters={"units": [8, 4]},
                         data_options=DataOptions(encoding="latin-1"), callbacks=("tensorboard",))
    import json

    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.callbacks == ("tensorboard",)


def test_differences_name_the_fields_that_changed():
    a = TrainConfig("lstm", data="d.txt", seed=0)
    b = a.replace(seed=1, data_options=DataOptions(sep=";"))
    assert a.differences(b) == ["seed", "data_options.sep"]
    assert a.differences(a) == []


@pytest.mark.parametrize("kwargs,message", [
    ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0 (--batch-size)."),
    ({"lr_decay": 0}, "lr_decay must be a number in (0, 1], got 0 (--lr-decay)."),
    ({"class_weight": "sqrt"}, "class_weight must be one of balanced, got 'sqrt' (--class-weight)."),
    ({"distribute": "tpu"}, "distribute must be one of none, mirrored, multiworker, got 'tpu' (--distribute)."),
    ({"seed": True}, "seed must be an integer >= 0 and <= 4294967295, got True (--seed)."),
    ({"label_smoothing": 1}, "label_smoothing must be a number in [0, 1), got 1 (--label-smoothing)."),
    ({"chrono": -1}, "chrono must be an integer >= 0 and <= 1000000, got -1 (--chrono)."),
    ({"hyperparameters": {"input": "features"}}, "'input' is set from the data"),
])
def test_bad_values_name_the_field_and_its_flag(kwargs, message):
    with pytest.raises(ZooError) as e:
        TrainConfig("lstm", data="d.txt", **kwargs)
    assert str(e.value).startswith(message)


def test_unknown_fields_in_a_stored_config_are_an_error():
    with pytest.raises(ZooError, match=r"unknown TrainConfig field\(s\) epochz; known: "):
        TrainConfig.from_dict({"architecture": "lstm", "epochz": 3})
