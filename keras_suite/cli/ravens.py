"""`keras-suite ravens`: the Ravens benchmark (collect, oracle) and Transporter Networks."""

import argparse
import os
import time

from keras_suite.cli import transporter
from keras_suite.cli.not_built import NotBuiltError
from keras_suite.envs.ravens import TASKS  # a light import: no simulator

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
    collect.add_argument("--task", required=True, choices=TASKS, help="a Ravens task name")
    collect.add_argument("--n", type=_non_negative, default=100, help="episodes wanted")
    collect.add_argument("--out", default="out/ravens/demos", help="output folder")
    collect.add_argument("--split", choices=["train", "test"], default="train")
    collect.set_defaults(func=run_collect)

    oracle = commands.add_parser("oracle", help="measure the oracle's success rate")
    oracle.add_argument("--task", required=True, choices=TASKS, help="a Ravens task name")
    oracle.add_argument("--episodes", type=_non_negative, default=10, help="test episodes")
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


def run(args):
    """`keras-suite ravens` without a sub-command: run the demo into `--out`."""
    run_demo(args.out)


def run_collect(args):
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens import demonstrations

    env = ravens.make(args.task)
    try:
        gif = os.path.join(args.out, f"{args.task}-{args.split}.gif")
        stats = demonstrations.collect(
            env,
            ravens.OracleAgent(env),
            args.n,
            args.out,
            split=args.split,
            log=lambda line: print(line, flush=True),
            gif_path=gif,
        )
    finally:
        env.close()
    rate = stats["written"] / max(stats["seconds"], 1e-9) * 60
    print(
        f"{args.task}: {stats['written']} new episodes ({stats['existing']} already there, "
        f"{stats['failed']} failed) in {stats['seconds']:.0f} s: {rate:.1f} demos/min; "
        f"in {os.path.join(args.out, args.task)}",
        flush=True,
    )
    return 0


def run_oracle(args):
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens import demonstrations

    env = ravens.make(args.task)
    successes, steps = 0, 0
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        for i in range(args.first, args.first + args.episodes):
            frames = [] if i == args.first else None
            seed = demonstrations.episode_seed("test", i)
            episode, success = demonstrations.run_episode(
                env, ravens.OracleAgent(env), seed, frames
            )
            successes += success
            steps += len(episode["reward"])
            if frames:
                demonstrations.write_gif(frames, os.path.join(args.out, f"{args.task}.gif"))
            print(
                f"{args.task} seed {seed}: {'success' if success else 'failure'} in "
                f"{len(episode['reward'])} steps",
                flush=True,
            )
    finally:
        env.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = max(args.episodes, 1)
    print(
        f"{args.task}: oracle success {successes}/{args.episodes} = {successes / n:.0%}; "
        f"{steps / n:.1f} steps/episode; {args.episodes / max(wall, 1e-9) * 60:.1f} demos/min "
        f"({cpu / n:.1f} s CPU per episode)",
        flush=True,
    )
    return 0


def run_demo(out_dir):
    """Collects a few demonstrations and measures the oracle on a fast task, then Transporter."""
    run_collect(
        argparse.Namespace(task=DEMO_TASK, n=3, out=os.path.join(out_dir, "demos"), split="train")
    )
    run_oracle(
        argparse.Namespace(task=DEMO_TASK, episodes=5, first=0, out=os.path.join(out_dir, "oracle"))
    )
    try:
        transporter.run_demo(os.path.join(out_dir, "transporter"))
    except NotBuiltError as error:
        print(f"skipped: {error}", flush=True)
