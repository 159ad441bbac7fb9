"""`keras-suite ravens`: the Ravens benchmark (collect, oracle) and Transporter Networks.

Argument parsing and printing only: the recipes are
`keras_suite.envs.ravens.demonstrations.collect_demonstrations` and
`keras_suite.envs.ravens.oracle_evaluation.evaluate_oracle`.
"""

import argparse
import os

from keras_suite.cli import transporter
from keras_suite.cli.progress_bar import ProgressBar

#: The task the demo runs: the fastest one (one pick-and-place per episode).
DEMO_TASK = "block-insertion"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "ravens",
        help="the Ravens benchmark and Transporter Networks",
        description="Ravens: collect oracle demonstrations, measure the oracle; Transporter "
        "Networks: train, eval.",
    )
    parser.add_argument("--out", default="out/ravens", help="output folder (without a sub-command)")
    parser.set_defaults(func=run)
    commands = parser.add_subparsers(dest="ravens_command")

    collect = commands.add_parser("collect", help="collect oracle demonstrations (resumable)")
    collect.add_argument("--task", required=True, help="a Ravens task name")
    collect.add_argument("--n", type=_non_negative, default=100, help="episodes wanted")
    collect.add_argument("--out", default="out/ravens/demos", help="output folder")
    collect.add_argument("--split", choices=["train", "test"], default="train")
    collect.set_defaults(func=run_collect)

    oracle = commands.add_parser("oracle", help="measure the oracle's success rate")
    oracle.add_argument("--task", required=True, help="a Ravens task name")
    oracle.add_argument("--episodes", type=_positive, default=10, help="test episodes")
    oracle.add_argument(
        "--first", type=_non_negative, default=0, help="index of the first test seed (2 i + 1)"
    )
    oracle.add_argument("--out", default="out/ravens/oracle", help="folder for the GIF")
    oracle.set_defaults(func=run_oracle)

    transporter.add_subcommands(commands)
    return parser


def _non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0. Received: {text}")
    return value


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text}")
    return value


def run(args):
    """`keras-suite ravens` without a sub-command: run the demo into `--out`."""
    run_demo(args.out)
    return 0


def run_collect(args):
    """`ravens collect`: oracle demonstrations into `--out/<task>/`."""
    from keras_suite.envs.ravens.demonstrations import collect_demonstrations

    gif = os.path.join(args.out, f"{args.task}-{args.split}.gif")
    stats = collect_demonstrations(
        args.task,
        args.n,
        args.out,
        split=args.split,
        gif_path=gif,
        progress=ProgressBar("episode"),
    )
    print(
        f"{args.task}: {stats['written']} new {args.split} episodes ({stats['existing']} already "
        f"there, {stats['failed']} failed by the oracle) in {stats['seconds']:.0f} s: "
        f"{stats['demos_per_minute']:.1f} demos/min",
        flush=True,
    )
    print(f"episodes: {stats['folder']}", flush=True)
    if stats["written"]:
        print(f"first new episode: {gif}", flush=True)
    return 0


def run_oracle(args):
    """`ravens oracle`: the oracle's success rate on test seeds 2 first + 1, +2, ..."""
    from keras_suite.envs.ravens.oracle_evaluation import evaluate_oracle

    gif = os.path.join(args.out, f"{args.task}.gif")
    result = evaluate_oracle(
        args.task,
        args.episodes,
        first_seed=2 * args.first + 1,
        gif_path=gif,
        progress=ProgressBar("episode"),
    )
    solved = sum(result["successes"])
    print(
        f"{args.task}: oracle success {solved}/{args.episodes} = {result['success_rate']:.0f}% "
        f"(odd seeds {result['seeds'][0]}-{result['seeds'][-1]}); "
        f"{result['steps_per_episode']:.1f} steps/episode; "
        f"{result['demos_per_minute']:.1f} demos/min "
        f"({result['cpu_seconds_per_episode']:.1f} s CPU per episode)",
        flush=True,
    )
    print(f"first episode: {gif}", flush=True)
    return 0


def run_demo(out_dir):
    """Collects a few demonstrations and measures the oracle on a fast task, then Transporter."""
    run_collect(
        argparse.Namespace(task=DEMO_TASK, n=3, out=os.path.join(out_dir, "demos"), split="train")
    )
    run_oracle(
        argparse.Namespace(task=DEMO_TASK, episodes=5, first=0, out=os.path.join(out_dir, "oracle"))
    )
    transporter.run_demo(os.path.join(out_dir, "transporter"))
