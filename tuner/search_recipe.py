"""The Model Search recipe on a built-in dataset: search, evaluate the best model, write results."""

import json
import os
import time

import keras
import numpy as np

from keras_suite.tuner.builtin_datasets import DATASETS, load_dataset
from keras_suite.tuner.ensemble import ENSEMBLE_METHODS
from keras_suite.tuner.lineage import lineage_records, plot_lineage, plot_objective, results_table
from keras_suite.tuner.model_search import ModelSearch
from keras_suite.tuner.model_search_oracle import ModelSearchOracle

OBJECTIVE = "val_accuracy"


def run_search(
    out_dir,
    dataset="digits",
    max_trials=12,
    epochs=3,
    batch_size=64,
    seed=1,
    ensemble_method="average",
    progress=None,
):
    """Runs Model Search on a built-in dataset and writes its results into `out_dir`.

    The search maximizes the validation accuracy over the dataset's blocks
    (`keras_suite.tuner.builtin_datasets.DATASET_BLOCKS`); the best trial's model (a single
    tower or an ensemble) is then scored on the held-out test split. `out_dir` receives
    `objective.png` (each trial's objective and the best so far), `lineage.png` (parents,
    mutations, ensemble members and teachers), `results.json` (the summary returned, without
    `paths` and `table`), `best.keras` (the best model) and `runs/` (the KerasTuner project).

    Args:
        out_dir: the output folder (created if needed).
        dataset: `"digits"` or `"mnist1d"` (see `keras_suite.tuner.load_dataset`).
        max_trials: the number of trials, at least 1.
        epochs: the training epochs of each trial, at least 1.
        batch_size: the batch size, at least 1.
        seed: the seed of the search and of the models' initialization.
        ensemble_method: how ensemble trials combine their members, `"average"` or
            `"weighted"`.
        progress: optional `progress(done, total, **values)` callable, called after each trial
            with the trials done, `max_trials`, and the trial's `score` (when it completed) and
            the `best` score so far.

    Returns:
        A dict with `dataset`, `max_trials`, `epochs`, `seconds` (of the search), `best_trial_id`,
        `best_trial_type`, `best_val_accuracy`, `test_accuracy` and `num_params` of the best
        model, `trials` (one lineage record per trial, see `lineage_records`), `table` (the
        results as a plain-text table) and `paths` (name to path of each file written).

    Example:

    ```python
    results = keras_suite.tuner.run_search("out/search", max_trials=3, epochs=1)
    print(results["table"])
    print(results["test_accuracy"], results["paths"]["best_model"])
    ```
    """
    if dataset not in DATASETS:
        raise ValueError(f"`dataset` must be one of {DATASETS}. Received: dataset={dataset!r}")
    for name, value in (("max_trials", max_trials), ("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    if ensemble_method not in ENSEMBLE_METHODS:
        raise ValueError(
            f"`ensemble_method` must be one of {ENSEMBLE_METHODS}. "
            f"Received: ensemble_method={ensemble_method!r}"
        )
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(
            f"`out_dir` must be a folder (or not exist yet), not a file. Received: {out_dir}"
        )
    data = load_dataset(dataset)
    keras.utils.set_random_seed(seed)
    oracle = ModelSearchOracle(
        objective=OBJECTIVE, max_trials=max_trials, seed=seed, ensemble_method=ensemble_method
    )
    tuner = ModelSearch(
        oracle,
        num_classes=data["num_classes"],
        blocks=data["blocks"],
        directory=os.path.join(out_dir, "runs"),
        project_name=dataset,
        overwrite=True,
    )
    start = time.time()
    tuner.search(
        data["x_train"],
        data["y_train"],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        progress=progress,
    )
    seconds = time.time() - start
    records = lineage_records(oracle)
    best_trial = oracle.get_best_trials(1)[0]
    best = tuner.load_model(best_trial)
    probabilities = best.predict(data["x_test"], batch_size=256, verbose=0)
    summary = {
        "dataset": dataset,
        "max_trials": max_trials,
        "epochs": epochs,
        "seconds": seconds,
        "best_trial_id": best_trial.trial_id,
        "best_trial_type": best_trial.hyperparameters.values["trial_type"],
        "best_val_accuracy": best_trial.score,
        "test_accuracy": float(np.mean(np.argmax(probabilities, axis=1) == data["y_test"])),
        "num_params": int(best.count_params()),
        "trials": records,
    }
    paths = {
        "objective_png": plot_objective(
            records, os.path.join(out_dir, "objective.png"), OBJECTIVE, "max"
        ),
        "lineage_png": plot_lineage(records, os.path.join(out_dir, "lineage.png")),
        "best_model": tuner.export_model(os.path.join(out_dir, "best.keras")),
        "results_json": os.path.join(out_dir, "results.json"),
    }
    with open(paths["results_json"], "w") as f:
        json.dump(summary, f, indent=1)
    return dict(summary, table=results_table(records, OBJECTIVE), paths=paths)
