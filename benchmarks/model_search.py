"""Model Search against KerasTuner's RandomSearch, BayesianOptimization and Hyperband.

All four search the same block space (the blocks of `keras-suite search` for each dataset, with the
same learning rates, optimizers and dropout rates, and depths 1 to `--max-depth`) at an equal
budget of `--trials` trials x `--epochs` epochs per seed; Hyperband gets the same total number of
training epochs. Baseline architectures are `depth` block choices; blocks that cannot follow the
previous one (a convolution after a dense block) are skipped, so every choice builds a model.

For each dataset and method the script prints, over `--seeds` seeds: the best validation accuracy
after 1/4, 1/2 and all of the trials and of the epochs, the number of trials to reach the target
accuracy, and the final test accuracy and parameter count of the best model (for Model Search
the best trial may be an ensemble). The target is one fixed validation accuracy per dataset:
`--target-fraction` (95% by default) of RandomSearch's final best validation accuracy, median
over seeds (`--target-reference random`), so that RandomSearch reaches it in at least half of
its seeds and the "one third of RandomSearch's trials" goal can be judged; or of the best
validation accuracy any method reached in any seed (`--target-reference peak`, which a method far
behind may never reach). The target is printed with the table, and the trials to the other
reference's target are printed below it. Trials to target are the median over seeds, a seed that
never reaches it counting as infinitely many (`not reached` when the median is), and the per-seed
numbers (`-`: not reached). The goal checked at the end: Model Search's median is at most a third
of RandomSearch's, and its mean test accuracy is the best.

Run: `.venv/bin/python benchmarks/model_search.py`, or `--quick` for a one-seed, one-dataset
check. The run reported in `guides/results.md` (Model Search) used `--trials 12 --epochs 2`, all
of digits' training data, and `--train-size 1600` without `bilstm_32` for mnist1d (one process per
dataset, side by side on 2 heavily shared cores); its command lines and timings are stated there.
`--summarize FILE.json` prints the table again from a `--json` file.

The search runs under the Keras backend of `KERAS_BACKEND`; `--backends jax,torch,tensorflow`
instead runs the whole benchmark once per backend, each in its own subprocess (the backend is
fixed per process), prints each backend's table and then the seconds per search of each method
on each backend.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import keras
import keras_tuner
import numpy as np

from keras_suite import tuner as model_search
from keras_suite.tuner.block_registry import build_tower, resolve_blocks, transition
from keras_suite.tuner.builtin_datasets import load_dataset

METHODS = ("model_search", "random", "bayesian", "hyperband")
BACKENDS = ("jax", "torch", "tensorflow")
LEARNING_RATES = [3e-4, 1e-3, 3e-3, 1e-2]
OPTIMIZERS = ["adam", "rmsprop", "sgd"]
DROPOUTS = [0.0, 0.1, 0.2, 0.3]


class BlockSpaceHyperModel(keras_tuner.HyperModel):
    """The Model Search block space as a KerasTuner hypermodel, for the baselines."""

    def __init__(self, blocks, input_shape, num_classes, max_depth):
        super().__init__()
        self.specs = resolve_blocks(blocks)
        self.blocks = list(blocks)
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.max_depth = max_depth

    def build(self, hp):
        depth = hp.Int("depth", 1, self.max_depth)
        chosen = [hp.Choice(f"block_{i}", self.blocks) for i in range(self.max_depth)][:depth]
        architecture, rank = [], len(self.input_shape) + 1
        for name in chosen:
            if self.specs[name].rank_after(rank) is not None:
                architecture.append(name)
                rank = self.specs[name].rank_after(rank)
        inputs = keras.Input(self.input_shape)
        x = transition(build_tower(inputs, architecture, self.specs), 2, name="features")
        dropout = hp.Choice("dropout", DROPOUTS)
        if dropout > 0:
            x = keras.layers.Dropout(dropout)(x)
        outputs = keras.layers.Dense(self.num_classes, activation="softmax", name="head")(x)
        model = keras.Model(inputs, outputs)
        name = hp.Choice("optimizer", OPTIMIZERS)
        learning_rate = hp.Choice("learning_rate", LEARNING_RATES)
        optimizer = {
            "adam": keras.optimizers.Adam(learning_rate),
            "rmsprop": keras.optimizers.RMSprop(learning_rate),
            "sgd": keras.optimizers.SGD(learning_rate, momentum=0.9),
        }[name]
        model.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=False,
        )
        return model


class BudgetHyperbandOracle(keras_tuner.oracles.HyperbandOracle):
    """Hyperband that stops once its trials have used `epoch_budget` training epochs."""

    def __init__(self, epoch_budget, **kwargs):
        super().__init__(**kwargs)
        self.epoch_budget = epoch_budget

    def epochs_used(self):
        return sum(
            t.hyperparameters.values["tuner/epochs"]
            - t.hyperparameters.values["tuner/initial_epoch"]
            for t in self.trials.values()
        )

    def populate_space(self, trial_id):
        if self.epochs_used() >= self.epoch_budget:
            return {"status": keras_tuner.engine.trial.TrialStatus.STOPPED, "values": None}
        return super().populate_space(trial_id)


class _NoTensorBoard:
    """KerasTuner's `Tuner` imports TensorBoard for its callback; it is not installed here."""

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        return None


class BaselineTuner(_NoTensorBoard, keras_tuner.Tuner):
    """KerasTuner's `Tuner` (for RandomSearch and BayesianOptimization oracles)."""


class BudgetHyperband(_NoTensorBoard, keras_tuner.tuners.Hyperband):
    """KerasTuner's `Hyperband` tuner, running a `BudgetHyperbandOracle`."""

    def __init__(self, oracle, hypermodel, **kwargs):
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)


def _trial_epochs(trial, method, epochs):
    values = trial.hyperparameters.values
    if method == "hyperband":
        return values["tuner/epochs"] - values["tuner/initial_epoch"]
    if method == "model_search" and values.get("trial_type") == "ensemble":
        return epochs if values.get("ensemble_method") == "weighted" else 0
    return epochs


def run_method(method, data, seed, trials, epochs, max_depth, directory):
    """Runs one search; returns its per-trial curve and the best model's test numbers."""
    keras.utils.set_random_seed(seed)
    common = dict(objective="val_accuracy", seed=seed + 1)
    shape = data["x_train"].shape[1:]
    if method == "model_search":
        oracle = model_search.ModelSearchOracle(
            max_trials=trials,
            max_depth=max_depth,
            learning_rates=LEARNING_RATES,
            optimizers=OPTIMIZERS,
            dropout_rates=DROPOUTS,
            **common,
        )
        tuner = model_search.ModelSearch(
            oracle,
            num_classes=10,
            blocks=data["blocks"],
            directory=directory,
            project_name=method,
            overwrite=True,
            jit_compile=False,
        )
    else:
        hypermodel = BlockSpaceHyperModel(data["blocks"], shape, 10, max_depth)
        if method == "random":
            oracle = keras_tuner.oracles.RandomSearchOracle(max_trials=trials, **common)
        elif method == "bayesian":
            oracle = keras_tuner.oracles.BayesianOptimizationOracle(
                max_trials=trials, num_initial_points=max(2, trials // 3), **common
            )
        else:
            oracle = BudgetHyperbandOracle(
                epoch_budget=trials * epochs,
                max_epochs=3 * epochs,
                factor=3,
                hyperband_iterations=10,
                **common,
            )
        tuner_cls = BudgetHyperband if method == "hyperband" else BaselineTuner
        tuner = tuner_cls(
            oracle=oracle,
            hypermodel=hypermodel,
            directory=directory,
            project_name=method,
            overwrite=True,
        )
    oracle.verbose = 0
    fit_epochs = 3 * epochs if method == "hyperband" else epochs
    start = time.time()
    tuner.search(
        data["x_train"],
        data["y_train"],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=fit_epochs,
        batch_size=64,
        verbose=0,
    )
    seconds = time.time() - start
    ordered = [oracle.trials[i] for i in sorted(oracle.trials, key=int)]
    curve, best, used = [], 0.0, 0
    for trial in ordered:
        if trial.status == "COMPLETED" and trial.score is not None:
            best = max(best, trial.score)
        used += _trial_epochs(trial, method, epochs)
        curve.append((used, best))
    best_model = tuner.get_best_models(1)[0]
    predictions = best_model.predict(data["x_test"], batch_size=256, verbose=0)
    return {
        "curve": curve,
        "test_accuracy": float(np.mean(np.argmax(predictions, 1) == data["y_test"])),
        "num_params": int(best_model.count_params()),
        "seconds": seconds,
    }


def _best_at(curve, trials=None, epochs=None):
    points = [
        b
        for i, (e, b) in enumerate(curve)
        if (trials is None or i < trials) and (epochs is None or e <= epochs)
    ]
    return max(points, default=0.0)


def _trials_to(curve, target):
    return next((i + 1 for i, (_, best) in enumerate(curve) if best >= target), None)


def target_accuracy(by_method, fraction, reference):
    """The target validation accuracy of one dataset, and a sentence saying what it is."""
    if reference == "random" and by_method.get("random"):
        finals = [max(b for _, b in r["curve"]) for r in by_method["random"]]
        base = statistics.median(finals)
        what = "RandomSearch's final best validation accuracy (median over seeds)"
    else:
        base = max(max(b for _, b in r["curve"]) for runs in by_method.values() for r in runs)
        what = "the best validation accuracy any method reached in any seed"
    target = round(fraction * base, 4)
    return target, f"{target:.4f} = {fraction:g} x {base:.4f}, {what}"


def summarize(results, trials, epochs, target_fraction=0.95, target_reference="random"):
    rows = []
    other = "peak" if target_reference == "random" else "random"
    for dataset, by_method in results.items():
        target, text = target_accuracy(by_method, target_fraction, target_reference)
        other_target, other_text = target_accuracy(by_method, target_fraction, other)
        print(f"{dataset}: target val accuracy {text}")
        for method, runs in by_method.items():
            if not runs:
                continue
            reached = [_trials_to(r["curve"], target) for r in runs]
            other_reached = [_trials_to(r["curve"], other_target) for r in runs]
            numbers = sorted(n if n is not None else float("inf") for n in reached)
            median_trials = statistics.median(numbers)
            row = {
                "dataset": dataset,
                "method": method,
                "target": target,
                "seeds_reached": sum(n is not None for n in reached),
                "trials_to_target": reached,
                "other_target": other_text,
                "trials_to_other_target": other_reached,
                "median_trials_to_other_target": statistics.median(
                    sorted(n if n is not None else float("inf") for n in other_reached)
                ),
                "median_trials_to_target": median_trials,
                "test_accuracy": statistics.mean(r["test_accuracy"] for r in runs),
                "num_params": statistics.median(r["num_params"] for r in runs),
                "seconds": statistics.mean(r["seconds"] for r in runs),
            }
            for fraction in (0.25, 0.5, 1.0):
                row[f"val@{fraction:g}T"] = statistics.mean(
                    _best_at(r["curve"], trials=max(1, round(fraction * trials))) for r in runs
                )
                row[f"val@{fraction:g}E"] = statistics.mean(
                    _best_at(r["curve"], epochs=fraction * trials * epochs) for r in runs
                )
            rows.append(row)
    return rows


def goal_verdict(rows):
    """Whether Model Search met the goal on each dataset, as printable lines."""
    lines = []
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        by_method = {row["method"]: row for row in rows if row["dataset"] == dataset}
        if "model_search" not in by_method or "random" not in by_method:
            continue
        ours, random = by_method["model_search"], by_method["random"]
        fast = ours["median_trials_to_target"] <= random["median_trials_to_target"] / 3
        if random["median_trials_to_target"] == float("inf"):
            fast = None
        top = max(row["test_accuracy"] for row in by_method.values())
        best = [m for m, row in by_method.items() if abs(row["test_accuracy"] - top) < 1e-9]
        lines.append(
            f"{dataset}: trials to target {_median_text(ours)} (Model Search) vs "
            f"{_median_text(random)} (RandomSearch): "
            f"{_VERDICTS[fast]} a third; "
            "best mean test accuracy: "
            f"{' and '.join(best)} ({top:.4f}{', tied' if len(best) > 1 else ''})"
        )
    return lines


_VERDICTS = {True: "at most", False: "NOT at most", None: "cannot be judged:"}


def _median_text(row, key="median_trials_to_target"):
    median = row[key]
    return "not reached" if median == float("inf") else f"{median:g}"


def print_table(rows, trials, epochs, seeds):
    print(
        f"\nbudget: {trials} trials x {epochs} epochs per seed ({trials * epochs} epochs), "
        f"{seeds} seeds; val accuracy = best so far, mean over seeds"
    )
    header = (
        f"| {'dataset':<8} | {'method':<12} | val@T/4 | val@T/2 | val@T | val@E/4 | val@E/2 | "
        f"val@E | target | trials to target (median; per seed) | test acc | params | s/seed |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for row in rows:
        per_seed = ",".join("-" if n is None else str(n) for n in row["trials_to_target"])
        median = _median_text(row)
        print(
            f"| {row['dataset']:<8} | {row['method']:<12} | {row['val@0.25T']:.4f}  | "
            f"{row['val@0.5T']:.4f}  | {row['val@1T']:.4f}| {row['val@0.25E']:.4f}  | "
            f"{row['val@0.5E']:.4f}  | {row['val@1E']:.4f}| {row['target']:.4f} | "
            f"{median + ' (' + per_seed + ')':<35} | {row['test_accuracy']:.4f}   | "
            f"{int(row['num_params']):>6} | {row['seconds']:>6.0f} |"
        )
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        dataset_rows = [row for row in rows if row["dataset"] == dataset]
        print(f"{dataset}: trials to the other target, {dataset_rows[0]['other_target']}:")
        for row in dataset_rows:
            per_seed = ",".join("-" if n is None else str(n) for n in row["trials_to_other_target"])
            median = _median_text(row, "median_trials_to_other_target")
            print(f"  {row['method']}: {median} ({per_seed})")
    for line in goal_verdict(rows):
        print(line)


def run_backends(backends, argv):
    """Runs the benchmark with `argv` once per backend, each in a subprocess; prints the speeds."""
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            path = os.path.join(folder, f"{backend}.json")
            print(f"== KERAS_BACKEND={backend} ==", flush=True)
            subprocess.run(
                [sys.executable, __file__, *argv, "--json", path],
                env=dict(os.environ, KERAS_BACKEND=backend),
                check=True,
            )
            with open(path) as f:
                results = json.load(f)["results"]
            for by_method in results.values():
                for method, runs in by_method.items():
                    seconds.setdefault(method, {}).setdefault(backend, []).extend(
                        run["seconds"] for run in runs
                    )
    print("\nseconds per search (mean over datasets and seeds):")
    print(f"| {'method':<12} | " + " | ".join(f"{b:>10}" for b in backends) + " |")
    print(f"|{'-' * 14}|" + "|".join("-" * 12 for _ in backends) + "|")
    for method, by_backend in seconds.items():
        cells = [f"{statistics.mean(by_backend[b]):>10.1f}" for b in backends]
        print(f"| {method:<12} | " + " | ".join(cells) + " |")


def _without_backends(argv):
    """`argv` without its `--backends` option."""
    kept, skip = [], False
    for arg in argv:
        if arg == "--backends":
            skip = True
        elif not (skip or arg.startswith("--backends=")):
            kept.append(arg)
        else:
            skip = False
    return kept


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist1d", "digits"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="run seeds first-seed .. first-seed+seeds-1"
    )
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-depth", type=int, default=4)
    parser.add_argument(
        "--train-size", type=int, help="use only this many training examples (default: all)"
    )
    parser.add_argument(
        "--target-fraction",
        type=float,
        default=0.95,
        help="the target accuracy, as a fraction of the reference accuracy",
    )
    parser.add_argument(
        "--target-reference",
        choices=("random", "peak"),
        default="random",
        help="the reference accuracy: RandomSearch's final best (median over seeds) or the best "
        "any method reached",
    )
    parser.add_argument("--blocks", nargs="+", help="search these blocks instead of the CLI's")
    parser.add_argument("--json", help="also write the raw results here (after every run)")
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="JSON",
        help="only print the table of saved results (the runs of several files are merged, e.g. "
        "runs of different seeds made side by side)",
    )
    parser.add_argument("--quick", action="store_true", help="one seed, digits, 6 trials")
    parser.add_argument(
        "--backends",
        help="comma-separated Keras backends to run in turn, each in its own subprocess "
        f"(among {', '.join(BACKENDS)}; default: only the current one, in this process)",
    )
    args = parser.parse_args(argv)
    if args.backends:
        backends = args.backends.split(",")
        unknown = sorted(set(backends) - set(BACKENDS))
        if unknown:
            parser.error(f"--backends must name among {BACKENDS}. Received: {unknown}")
        run_backends(backends, _without_backends(sys.argv[1:] if argv is None else argv))
        return
    if args.quick:
        args.datasets, args.seeds, args.trials = ["digits"], 1, 6
    if args.summarize:
        merged, budgets = {}, set()
        for path in args.summarize:
            with open(path) as f:
                saved = json.load(f)
            budgets.add((saved["args"]["trials"], saved["args"]["epochs"]))
            for dataset, by_method in saved["results"].items():
                for method, runs in by_method.items():
                    merged.setdefault(dataset, {}).setdefault(method, []).extend(runs)
        if len(budgets) != 1:
            raise ValueError(
                f"The files to merge must share one budget (trials, epochs). Received: {budgets}"
            )
        ((trials, epochs),) = budgets
        seeds = max(len(runs) for r in merged.values() for runs in r.values())
        rows = summarize(merged, trials, epochs, args.target_fraction, args.target_reference)
        print_table(rows, trials, epochs, seeds)
        return
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for dataset in args.datasets:
            results[dataset] = {method: [] for method in args.methods}
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                data = load_dataset(dataset, seed=seed)
                if args.blocks:
                    data["blocks"] = args.blocks
                if args.train_size:
                    data["x_train"] = data["x_train"][: args.train_size]
                    data["y_train"] = data["y_train"][: args.train_size]
                for method in args.methods:
                    run = run_method(
                        method,
                        data,
                        seed,
                        args.trials,
                        args.epochs,
                        args.max_depth,
                        os.path.join(directory, f"{dataset}_{seed}"),
                    )
                    results[dataset][method].append(run)
                    print(
                        f"{dataset} seed {seed} {method}: best val "
                        f"{max(b for _, b in run['curve']):.4f}, test {run['test_accuracy']:.4f}, "
                        f"{len(run['curve'])} trials, {run['seconds']:.0f} s",
                        flush=True,
                    )
                    if args.json:
                        with open(args.json, "w") as f:
                            json.dump({"args": vars(args), "results": results}, f)
    rows = summarize(results, args.trials, args.epochs, args.target_fraction, args.target_reference)
    print_table(rows, args.trials, args.epochs, args.seeds)


if __name__ == "__main__":
    main()
