"""`keras-suite search`: Model Search on a built-in dataset (sklearn digits, mnist1d).

The recipe is `keras_suite.tuner.run_search`; this module parses the arguments, shows a progress
bar over the trials and prints the results and where they went.
"""

import argparse

from keras_suite.cli.progress_bar import ProgressBar

# Kept in step with `keras_suite.tuner.builtin_datasets.DATASETS` and
# `keras_suite.tuner.ensemble.ENSEMBLE_METHODS` (tests/cli/search_test.py checks it), so that the
# parser imports neither Keras nor KerasTuner.
DATASETS = ("digits", "mnist1d")
ENSEMBLE_METHODS = ("average", "weighted")


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
    parser.add_argument("--max-trials", type=_positive_int, default=12, help="number of trials")
    parser.add_argument("--epochs", type=_positive_int, default=3, help="epochs per trial")
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="batch size")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--ensemble-method",
        choices=ENSEMBLE_METHODS,
        default="average",
        help="how ensemble trials combine their members",
    )
    parser.set_defaults(func=run)
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1. Received: {text}")
    return value


def run(args):
    """Runs Model Search as the command line asks; returns the exit status."""
    return search(
        args.out,
        dataset=args.dataset,
        max_trials=args.max_trials,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        ensemble_method=args.ensemble_method,
    )


def search(out_dir, **kwargs):
    """Runs `keras_suite.tuner.run_search` with a progress bar and prints its results.

    Args:
        out_dir: the output folder.
        **kwargs: the other arguments of `run_search`.

    Returns:
        0, the exit status.
    """
    from keras_suite.tuner.search_recipe import run_search

    results = run_search(out_dir, progress=ProgressBar("trial"), **kwargs)
    print(
        f"Model Search on {results['dataset']}: {len(results['trials'])} trials x "
        f"{results['epochs']} epochs in {results['seconds']:.0f} s"
    )
    print(results["table"])
    print(
        f"best trial {results['best_trial_id']} ({results['best_trial_type']}): "
        f"val_accuracy {results['best_val_accuracy']:.4f}, "
        f"test_accuracy {results['test_accuracy']:.4f}, {results['num_params']} parameters"
    )
    for name, path in results["paths"].items():
        print(f"{name}: {path}")
    return 0


def run_demo(out_dir):
    """Runs the short demo of this system, writing into `out_dir`."""
    return search(out_dir, dataset="digits", max_trials=12, epochs=3, batch_size=64, seed=1)
