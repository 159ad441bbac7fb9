import json

import keras
import numpy as np
import pytest

from keras_suite.cli import main as cli
from keras_suite.cli import search


def test_search_sub_command_parses_its_options():
    args = cli.build_parser().parse_args(
        ["search", "--dataset", "mnist1d", "--max-trials", "4", "--epochs", "2", "--out", "o"]
    )
    assert (args.dataset, args.max_trials, args.epochs, args.out) == ("mnist1d", 4, 2, "o")
    assert args.func is search.run
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["search", "--dataset", "cifar"])


@pytest.mark.parametrize("name, shape", [("digits", (8, 8, 1)), ("mnist1d", (40, 1))])
def test_built_in_datasets_are_split_without_overlap(name, shape):
    data = search.load_dataset(name)
    assert data["x_train"].shape[1:] == shape
    sizes = [len(data[k]) for k in ("x_train", "x_val", "x_test")]
    assert [len(data[k]) for k in ("y_train", "y_val", "y_test")] == sizes
    total = {"digits": 1797, "mnist1d": 4000}[name]
    assert sum(sizes) == total
    assert sizes[1] == (total - sizes[2]) // 5
    train = {row.tobytes() for row in data["x_train"]}
    assert not any(row.tobytes() in train for row in data["x_val"])
    assert set(np.unique(data["y_train"])) == set(range(10))
    with pytest.raises(ValueError, match="name='cifar'"):
        search.load_dataset("cifar")


@pytest.mark.slow
def test_search_writes_table_plots_results_and_best_model(tmp_path, capsys):
    summary = search.search(str(tmp_path), dataset="digits", max_trials=3, epochs=1, seed=2)
    out = capsys.readouterr().out
    assert "val_accuracy" in out and "best trial" in out
    for key in ("objective_png", "lineage_png"):
        with open(summary["paths"][key], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(summary["paths"]["results_json"]) as f:
        results = json.load(f)
    assert len(results["trials"]) == 3
    data = search.load_dataset("digits")
    model = keras.saving.load_model(summary["paths"]["best_model"])
    accuracy = np.mean(np.argmax(model.predict(data["x_test"], verbose=0), 1) == data["y_test"])
    assert abs(accuracy - results["test_accuracy"]) < 1e-6
    assert results["num_params"] == model.count_params()
    with pytest.raises(ValueError, match="max_trials=0"):
        search.search(str(tmp_path), max_trials=0)
