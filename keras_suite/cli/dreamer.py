"""`keras-suite dreamer`: DreamerV2 world models and behaviour learned in imagination."""

import json

from keras_suite.cli.progress_bar import ProgressBar

CONFIGS = ("atari", "dmc", "small", "tiny", "minatar")
# The first seed of `--eval-preset`'s episodes: `keras_suite.zoo.dreamer.evaluate.EVAL_SEED`
# (not imported here: the command line loads no heavy module before it runs).
EVAL_SEED = 1_000_000


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "dreamer", help="DreamerV2: world models, behaviour learned in imagination, Atari"
    )
    parser.add_argument("--out", default="out/dreamer", help="output folder (the run's logdir)")
    parser.add_argument(
        "--env",
        default="atari:pong",
        help="atari:<ALE ROM id> (e.g. atari:pong), minatar:<game> (asterix, breakout, freeway, "
        "seaquest, space_invaders), cartpole_pixels, or a gymnasium id: "
        "image observations go to the conv encoder, vector ones (e.g. CartPole-v1's state) to "
        "the MLP encoder; --render trains on the rendered frames instead",
    )
    parser.add_argument(
        "--config",
        default=None,
        choices=CONFIGS,
        help="hyper-parameters (default: minatar for minatar:<game>, atari otherwise)",
    )
    parser.add_argument("--steps", type=int, default=1_000_000, help="environment steps in all")
    parser.add_argument("--prefill", type=int, default=None, help="random steps before training")
    parser.add_argument(
        "--train-every", type=int, default=None, help="steps per update (default: the config's)"
    )
    parser.add_argument(
        "--time-limit", type=int, default=27000, help="Atari and MinAtar episode limit in steps"
    )
    parser.add_argument("--render", action="store_true", help="use env.render() as the image")
    parser.add_argument("--jit", action="store_true", help="compile the update with XLA")
    parser.add_argument("--seed", type=int, default=0, help=f"training seed, below {EVAL_SEED:,}")
    parser.add_argument(
        "--from-preset",
        default=None,
        help="start a new run from this preset's agent (name or folder), e.g. pong_world_model",
    )
    parser.add_argument(
        "--eval-preset", default=None, help="only evaluate this preset (name or folder)"
    )
    parser.add_argument("--episodes", type=int, default=1, help="episodes of --eval-preset")
    parser.add_argument(
        "--eval-seed",
        type=int,
        default=EVAL_SEED,
        help="seed of --eval-preset's first episode (episode i: this + i); training never "
        "uses these",
    )
    parser.add_argument(
        "--sampled-policy",
        action="store_true",
        help="--eval-preset samples actions from the actor instead of taking the most likely",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="write --eval-preset's scores into its metadata.json (a preset folder)",
    )
    parser.add_argument(
        "--gif", default=None, help="with --eval-preset: save its first episode as this GIF"
    )
    parser.add_argument(
        "--list-presets", action="store_true", help="print the built-in presets and exit"
    )
    parser.add_argument(
        "--table",
        action="store_true",
        help="print the MinAtar presets' scores beside the MinAtar paper's baselines and exit",
    )
    parser.add_argument(
        "--curves",
        default=None,
        metavar="RUNS_FOLDER",
        help="draw the learning curves of the MinAtar runs in RUNS_FOLDER (one logdir per game, "
        "e.g. RUNS_FOLDER/breakout) as RUNS_FOLDER/learning_curves.png and exit",
    )
    parser.set_defaults(func=run)
    return parser


def run(args):
    if args.list_presets:
        return list_presets()
    if args.table:
        from keras_suite.zoo.dreamer.minatar_results import minatar_table

        print(minatar_table(), end="")
        return 0
    if args.curves:
        from keras_suite.zoo.dreamer.minatar_results import plot_minatar_curves

        print(f"wrote {plot_minatar_curves(args.curves)}")
        return 0
    if args.eval_preset:
        return run_eval(args)
    from keras_suite.zoo.dreamer import train

    results = train(
        env=args.env,
        out_dir=args.out,
        config=args.config or default_config(args.env),
        steps=args.steps,
        prefill=args.prefill,
        loop=None if args.train_every is None else {"train_every": args.train_every},
        time_limit=args.time_limit,
        render=args.render,
        jit_compile=args.jit,
        seed=args.seed,
        from_preset=args.from_preset,
        progress=ProgressBar("step"),
    )
    print(summary(results))
    for name in ("preset", "metrics", "losses_plot", "learning_curve", "video"):
        if results[name]:
            print(f"{name}: {results[name]}")
    return 0


def default_config(env):
    """The config a run on `env` uses unless `--config` names one."""
    return "minatar" if env.startswith("minatar:") else "atari"


def summary(results):
    """One line saying what the run really did: steps, updates and why there were none."""
    line = f"{results['env_steps']} environment steps, {results['updates']} updates"
    if results["new_env_steps"] != results["env_steps"]:
        line += f" ({results['new_env_steps']} steps, {results['new_updates']} updates this run)"
    if not results["prefill_done"]:
        line += f": the prefill ({results['prefill']} random steps) was not over"
    elif not results["updates"]:
        line += ": no update was due yet"
    return line


def run_eval(args):
    import os

    from keras_suite.zoo.dreamer.evaluate import evaluate, record_evaluation, save_episode_gif

    if args.record and not os.path.isdir(args.eval_preset):
        raise ValueError(
            "--record writes into a preset folder: --eval-preset must be one. "
            f"Received: --eval-preset {args.eval_preset}"
        )
    results = evaluate(
        args.eval_preset,
        args.env,
        episodes=args.episodes,
        seed=args.eval_seed,
        time_limit=args.time_limit,
        sample=args.sampled_policy,
        progress=ProgressBar("episode"),
    )
    print(json.dumps(results))
    if args.record:
        print(f"recorded in {record_evaluation(args.eval_preset, results, args.env)}")
    if args.gif:
        played = save_episode_gif(
            args.eval_preset,
            args.env,
            args.gif,
            seed=args.eval_seed,
            time_limit=args.time_limit,
            sample=args.sampled_policy,
        )
        print(f"wrote {played['path']} (return {played['return']:g})")
    return 0


def list_presets():
    from keras_suite.zoo import DreamerV2

    for name, description in DreamerV2.presets.items():
        print(f"{name}: {description}")
    return 0


def run_demo(out_dir):
    """Runs the short demo of this system, writing into `out_dir`.

    Trains the `tiny` config on ALE Pong (episodes cut at 150 steps) for 1,200 environment
    steps, 300 of them random, then writes `losses.png` (the loss curves), an open-loop video
    prediction (`videos/final.gif` and `.png`: truth, model, error rows) and the agent as a
    preset folder. Then the built-in `minatar_breakout` agent plays one MinAtar Breakout
    episode (an evaluation seed, greedy), saved as `minatar_breakout.gif`.
    """
    import os
    import shutil

    from keras_suite.zoo.dreamer import save_episode_gif, train

    shutil.rmtree(out_dir, ignore_errors=True)
    results = train(
        "atari:pong",
        out_dir,
        config="tiny",
        steps=1200,
        prefill=300,
        loop=dict(train_every=5, log_every=100, eval_every=10**9, checkpoint_every=10**9),
        time_limit=150,
        progress=ProgressBar("step"),
    )
    print(summary(results))
    print(f"wrote {results['losses_plot']}, {results['video']}, {results['preset']}")
    played = save_episode_gif(
        "minatar_breakout", "minatar:breakout", os.path.join(out_dir, "minatar_breakout.gif")
    )
    print(f"wrote {played['path']}: minatar_breakout plays Breakout, return {played['return']:g}")
