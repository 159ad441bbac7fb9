"""`keras-suite search`: Model Search on a built-in dataset (sklearn digits, mnist1d).

Both datasets are made offline: sklearn ships digits, and mnist1d's `make_dataset` generates its
sequences (its downloading `get_dataset` is never called). Heavy modules are imported inside the
functions so that `keras-suite --help` stays fast.
"""

import json
import os
import time

DATASETS = ("digits", "mnist1d")
DIGITS_BLOCKS = [
    "conv3x3_16",
    "conv3x3_32",
    "conv5x5_16",
    "resnet_16",
    "max_pool",
    "dense_32",
    "dense_64",
    "dense_128",
    "residual_dense_64",
]
MNIST1D_BLOCKS = [
    "conv1d_k3_32",
    "conv1d_k3_64",
    "conv1d_k5_32",
    "max_pool1d",
    "bilstm_32",
    "dense_64",
    "dense_128",
    "residual_dense_64",
]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "search",
        help="Model Search on a built-in dataset (sklearn digits, mnist1d)",
        description="Runs Model Search (beam-search mutation, ensembles, distillation, weight "
        "sharing) on a built-in dataset, prints the results table and writes the objective "
        "and lineage plots, the results as JSON and the best model as .keras.",
    )
    parser.add_argument("--out", default="out/search", help="output folder")
    parser.add_argument("--dataset", choices=DATASETS, default="digits", help="built-in dataset")
    parser.add_argument("--max-trials", type=int, default=12, help="number of trials")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per trial")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--ensemble-method",
        choices=("average", "weighted"),
        default="average",
        help="how ensemble trials combine their members",
    )
    parser.set_defaults(func=run)
    return parser


def load_dataset(name, seed=0):
    """Loads a built-in dataset, split into train, validation and test.

    Args:
        name: `"digits"` (8x8x1 images, 10 classes) or `"mnist1d"` (40-step sequences with one
            channel, 10 classes, 4000 examples generated offline).
        seed: the seed of the train/validation split.

    Returns:
        A dict with `x_train`, `y_train`, `x_val`, `y_val`, `x_test`, `y_test` (float32 inputs,
        int32 labels), `blocks` (the block names searched) and `num_classes`.
    """
    import numpy as np

    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = (digits.images / 16.0).astype("float32")[..., None]
        y = digits.target.astype("int32")
        order = np.random.default_rng(1234).permutation(len(x))
        test, rest = order[:497], order[497:]
        x_test, y_test, x, y = x[test], y[test], x[rest], y[rest]
        blocks = DIGITS_BLOCKS
    elif name == "mnist1d":
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.num_samples = 4000
        data = make_dataset(args)
        x, y = data["x"].astype("float32")[..., None], data["y"].astype("int32")
        x_test, y_test = data["x_test"].astype("float32")[..., None], data["y_test"].astype("int32")
        blocks = MNIST1D_BLOCKS
    else:
        raise ValueError(f"`name` must be one of {DATASETS}. Received: name={name!r}")
    order = np.random.default_rng(seed).permutation(len(x))
    num_val = len(x) // 5
    val, train = order[:num_val], order[num_val:]
    return {
        "x_train": x[train],
        "y_train": y[train],
        "x_val": x[val],
        "y_val": y[val],
        "x_test": x_test,
        "y_test": y_test,
        "blocks": blocks,
        "num_classes": 10,
    }


def run(args):
    """Runs Model Search as the command line asks; returns the exit status."""
    search(
        args.out,
        dataset=args.dataset,
        max_trials=args.max_trials,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        ensemble_method=args.ensemble_method,
    )
    return 0


def search(
    out_dir,
    dataset="digits",
    max_trials=12,
    epochs=3,
    batch_size=64,
    seed=1,
    ensemble_method="average",
):
    """Runs Model Search on a built-in dataset and writes its results into `out_dir`.

    Returns:
        A dict with the `records` (lineage), the best trial's `test_accuracy`, `num_params`
        and the paths written.
    """
    import keras
    import numpy as np

    from keras_suite import tuner as model_search

    for name, value in (("max_trials", max_trials), ("epochs", epochs)):
        if value < 1:
            raise ValueError(f"`{name}` must be at least 1. Received: {name}={value}")
    os.makedirs(out_dir, exist_ok=True)
    data = load_dataset(dataset)
    keras.utils.set_random_seed(seed)
    oracle = model_search.ModelSearchOracle(
        objective="val_accuracy",
        max_trials=max_trials,
        seed=seed,
        ensemble_method=ensemble_method,
    )
    tuner = model_search.ModelSearch(
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
    )
    seconds = time.time() - start
    oracle.verbose = 1
    records = model_search.lineage_records(oracle)
    print(f"Model Search on {dataset}: {max_trials} trials x {epochs} epochs in {seconds:.0f} s")
    print(model_search.results_table(records, "val_accuracy"))
    best_trial = oracle.get_best_trials(1)[0]
    best = tuner.load_model(best_trial)
    probabilities = best.predict(data["x_test"], batch_size=256, verbose=0)
    test_accuracy = float(np.mean(np.argmax(probabilities, axis=1) == data["y_test"]))
    num_params = int(best.count_params())
    print(
        f"best trial {best_trial.trial_id} ({best_trial.hyperparameters.values['trial_type']}): "
        f"val_accuracy {best_trial.score:.4f}, test_accuracy {test_accuracy:.4f}, "
        f"{num_params} parameters"
    )
    paths = {
        "objective_png": model_search.plot_objective(
            records, os.path.join(out_dir, "objective.png"), "val_accuracy", "max"
        ),
        "lineage_png": model_search.plot_lineage(records, os.path.join(out_dir, "lineage.png")),
        "best_model": tuner.export_model(os.path.join(out_dir, "best.keras")),
        "results_json": os.path.join(out_dir, "results.json"),
    }
    summary = {
        "dataset": dataset,
        "max_trials": max_trials,
        "epochs": epochs,
        "seconds": seconds,
        "best_trial_id": best_trial.trial_id,
        "best_val_accuracy": best_trial.score,
        "test_accuracy": test_accuracy,
        "num_params": num_params,
        "trials": records,
    }
    with open(paths["results_json"], "w") as f:
        json.dump(summary, f, indent=1)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return dict(summary, paths=paths)


def run_demo(out_dir):
    """Runs the short demo of this system (about 2 minutes), writing into `out_dir`."""
    return search(out_dir, dataset="digits", max_trials=12, epochs=3, batch_size=64, seed=1)
