"""`keras-suite ravens train|eval`: Transporter Networks trained and evaluated on Ravens.

Argument parsing and printing only: the recipes are `keras_suite.zoo.transporter.training`
and `keras_suite.zoo.transporter.evaluation`.
"""

import argparse
import json
import os

from keras_suite.cli.progress_bar import ProgressBar

#: The built-in preset the demo runs.
DEMO_PRESET = "ravens_block_insertion"


def add_subcommands(ravens_subparsers):
    """Adds the Transporter sub-commands under `keras-suite ravens`."""
    train = ravens_subparsers.add_parser(
        "train", help="Transporter Networks: train on oracle demonstrations (resumable)"
    )
    train.add_argument("--task", required=True, help="a Ravens task name")
    train.add_argument(
        "--demos",
        default="out/ravens/demos",
        help="folder of `ravens collect` (has <task>/) or an original Ravens dataset "
        "(its --data_dir: has <task>-train/)",
    )
    train.add_argument("--n-demos", type=_positive, default=10, help="training episodes used")
    train.add_argument("--steps", type=_positive, default=1000, help="training steps to reach")
    train.add_argument("--config", default=None, help="network widths: narrow (default) or paper")
    train.add_argument("--batch-size", type=_positive, default=1)
    train.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="Adam's rate (default 2e-4); given on a resumed run, it replaces the saved rate",
    )
    train.add_argument("--save-every", type=_positive, default=100, help="checkpoint interval")
    train.add_argument(
        "--minutes", type=float, default=None, help="stop (resumably) after this wall time"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--scale", type=_positive, default=2, help="shrink the maps this many times (1: full size)"
    )
    train.add_argument(
        "--downsampling",
        type=int,
        choices=(1, 2, 4, 8),
        default=None,
        help="how much coarser the networks' deepest features are than the map (default: "
        "8 // scale, the paper's feature grid in metres)",
    )
    train.add_argument(
        "--transport-downsampling",
        type=int,
        choices=(1, 2, 4, 8),
        default=None,
        help="the same for the transport's key and query networks alone (default: --downsampling)",
    )
    train.add_argument(
        "--average-last",
        type=_positive,
        default=None,
        help="write the preset with the mean weights of the last K checkpoints (kept under "
        "OUT/snapshots)",
    )
    train.add_argument(
        "--goal-conditioned",
        action="store_true",
        help="train a GoalTransporterNet, shown each demonstration's last map as its goal",
    )
    train.add_argument(
        "--from-preset",
        default=None,
        help="start from this preset's networks and weights (a name or folder; a new run only)",
    )
    train.add_argument(
        "--out", default=None, help="output folder (default out/ravens/train/<task>-<n>)"
    )
    train.set_defaults(func=run_train)

    evaluate = ravens_subparsers.add_parser(
        "eval", help="Transporter Networks: scores on unseen (odd) seeds, paper-style table"
    )
    evaluate.add_argument("--model", nargs="+", help="preset names or preset folders to evaluate")
    evaluate.add_argument(
        "--list-presets", action="store_true", help="list the built-in presets and exit"
    )
    evaluate.add_argument("--episodes", type=_positive, default=10, help="test episodes a model")
    evaluate.add_argument(
        "--first-seed",
        type=_odd,
        default=1,
        help="the first test seed (odd: even seeds are training scenes); then every other one",
    )
    evaluate.add_argument("--out", default="out/ravens/eval", help="output folder")
    evaluate.add_argument(
        "--test-time-turns",
        type=int,
        choices=(1, 2, 4),
        default=None,
        help="average over the map turned this many times (default: each preset's own)",
    )
    evaluate.add_argument(
        "--subpixel-place",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="place at the mean pixel around the place argmax, or not (default: each preset's)",
    )
    evaluate.add_argument(
        "--table",
        action="store_true",
        help="rebuild results.md and results.png under --out from the evaluations recorded in "
        "the built-in presets and in --out's results.json, evaluating nothing",
    )
    evaluate.add_argument(
        "--record",
        action="store_true",
        help="also write each result into its preset's metadata.json (under `evaluation`)",
    )
    evaluate.set_defaults(func=run_eval)


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def _odd(text):
    value = int(text)
    if value < 1 or value % 2 == 0:
        raise argparse.ArgumentTypeError(
            f"must be an odd positive seed (even seeds are training scenes). Received: {text!r}"
        )
    return value


def run_train(args):
    """`ravens train`: trains (or resumes) one run; exit code 3 when time ran out first."""
    from keras_suite.zoo.transporter.training import train_transporter

    out = args.out or os.path.join("out", "ravens", "train", f"{args.task}-{args.n_demos}")
    result = train_transporter(
        args.task,
        args.demos,
        out,
        n_demos=args.n_demos,
        steps=args.steps,
        config=args.config,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        save_every=args.save_every,
        minutes=args.minutes,
        seed=args.seed,
        scale=args.scale,
        downsampling=args.downsampling,
        transport_downsampling=args.transport_downsampling,
        goal_conditioned=args.goal_conditioned,
        average_last=args.average_last,
        from_preset=args.from_preset,
        progress=ProgressBar("step"),
        log=_print,
    )
    ran = result["steps"] - result["start_step"]
    losses = ", ".join(f"{name} {value:.3f}" for name, value in result["losses"].items())
    print(
        f"{args.task}: {ran} training steps run (steps {result['start_step']} to "
        f"{result['steps']}) on {result['examples']} examples"
        + (f"; last epoch: {losses}" if losses else ""),
        flush=True,
    )
    print(f"checkpoint: {result['checkpoint']}", flush=True)
    if result["preset"] is None:
        print(
            f"stopped at step {result['steps']} of {args.steps} (time budget spent); run the "
            "same command again to resume",
            flush=True,
        )
        return 3
    print(f"preset: {result['preset']}", flush=True)
    return 0


def run_eval(args):
    """`ravens eval`: scores each preset, writes results.json / .md / .png under `--out`."""
    from keras_suite.zoo import TransporterNet
    from keras_suite.zoo.transporter import evaluation, results_table

    if args.list_presets:
        for name, description in TransporterNet.presets.items():
            print(f"{name}: {description}")
        return 0
    if args.table:
        return write_table(args.out)
    if not args.model:
        raise ValueError(
            "`--model` must name at least one preset name or preset folder (see "
            "`--list-presets`). Received: nothing"
        )
    for name in args.model:  # every preset is checked before any is evaluated
        evaluation.check_preset_metadata(name)
    os.makedirs(args.out, exist_ok=True)
    paths = {kind: os.path.join(args.out, f"results.{kind}") for kind in ("json", "md", "png")}
    for name in args.model:
        result = evaluation.evaluate_preset(
            name,
            args.episodes,
            first_seed=args.first_seed,
            test_time_turns=args.test_time_turns,
            subpixel_place=args.subpixel_place,
            progress=ProgressBar("episode"),
        )
        print(
            f"{name} ({result['task']}, {result['n_demos']} demos): score "
            f"{result['score']:.1f}, {result['success_rate']:.1f}% of {result['episodes']} "
            f"episodes solved (odd seeds {result['seeds'][0]}-{result['seeds'][-1]})",
            flush=True,
        )
        if args.record:
            print(f"recorded in {evaluation.record_evaluation(name, result)}", flush=True)
        results = results_table.add_result(results_table.read_results(paths["json"]), result)
        results_table.write_results(results, paths["json"])
    results_table.write_results_table(results, paths["md"])
    results_table.write_results_plot(results, paths["png"])
    for path in paths.values():
        print(f"wrote {path}", flush=True)
    return 0


def write_table(out_dir):
    """`ravens eval --table`: the results table from recorded evaluations only."""
    from keras_suite.zoo import TransporterNet
    from keras_suite.zoo.transporter import results_table

    paths = {kind: os.path.join(out_dir, f"results.{kind}") for kind in ("json", "md", "png")}
    # A preset's recorded evaluation wins over an earlier run's cell for the same row and count.
    results = results_table.read_results(paths["json"])
    for row, cells in results_table.recorded_results(TransporterNet.presets).items():
        results.setdefault(row, {}).update(cells)
    os.makedirs(out_dir, exist_ok=True)
    results_table.write_results_table(results, paths["md"])
    results_table.write_results_plot(results, paths["png"])
    cells = sum(len(row) for row in results.values())
    print(f"{cells} measured cells in {len(results)} rows")
    for kind in ("md", "png"):
        print(f"wrote {paths[kind]}", flush=True)
    return 0


def run_demo(out_dir):
    """Runs the `ravens_block_insertion` preset on one unseen scene and saves it as a GIF."""
    from keras_suite.zoo import TransporterNet
    from keras_suite.zoo.transporter.evaluation import evaluate_transporter, preset_metadata

    task = preset_metadata(DEMO_PRESET)["task"]
    model = TransporterNet.from_preset(DEMO_PRESET)
    os.makedirs(out_dir, exist_ok=True)
    gif = os.path.join(out_dir, f"{task}.gif")
    result = evaluate_transporter(model, task, 1, gif_path=gif, progress=ProgressBar("episode"))
    with open(os.path.join(out_dir, "result.json"), "w") as f:
        json.dump(dict(result, model=DEMO_PRESET), f, indent=2)
    print(
        f"{DEMO_PRESET} on {task}, seed 1: reward {result['rewards'][0]:.2f} "
        f"({'solved' if result['successes'][0] else 'not solved'})",
        flush=True,
    )
    print(f"wrote {gif} and {os.path.join(out_dir, 'result.json')}", flush=True)


def _print(line):
    print(line, flush=True)
