import json
import os

import keras
import numpy as np
import pytest

from keras_suite.tuner import load_dataset, run_search


def test_run_search_writes_plots_results_and_the_best_model(tmp_path):
    calls = []
    out_dir = str(tmp_path / "out")
    results = run_search(
        out_dir,
        dataset="digits",
        max_trials=2,
        epochs=1,
        seed=2,
        progress=lambda done, total, **values: calls.append((done, total, values)),
    )
    assert [(done, total) for done, total, _ in calls] == [(1, 2), (2, 2)]
    scores = [record["score"] for record in results["trials"]]
    assert calls[-1][2] == {"score": scores[-1], "best": max(scores)}
    assert results["best_val_accuracy"] == max(scores)
    for key in ("objective_png", "lineage_png"):
        with open(results["paths"][key], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(results["paths"]["results_json"]) as f:
        saved = json.load(f)
    assert saved == json.loads(
        json.dumps({k: v for k, v in results.items() if k not in ("paths", "table")})
    )
    assert len(saved["trials"]) == 2
    header = results["table"].splitlines()[0]
    assert header.split()[:4] == ["trial", "type", "status", "val_accuracy"]
    # The test accuracy is recomputed from the exported model on the held-out split.
    data = load_dataset("digits")
    model = keras.saving.load_model(results["paths"]["best_model"])
    accuracy = np.mean(np.argmax(model.predict(data["x_test"], verbose=0), 1) == data["y_test"])
    assert abs(accuracy - results["test_accuracy"]) < 1e-6
    assert results["num_params"] == model.count_params()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_trials": 0}, "max_trials=0"),
        ({"epochs": 1.5}, "epochs=1.5"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"dataset": "cifar"}, "dataset='cifar'"),
        ({"ensemble_method": "max"}, "ensemble_method='max'"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, kwargs, message):
    out_dir = str(tmp_path / "out")
    with pytest.raises(ValueError, match=message):
        run_search(out_dir, **kwargs)
    assert not os.path.exists(out_dir)


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(NotADirectoryError, match=f"Received: {path}"):
        run_search(str(path))
