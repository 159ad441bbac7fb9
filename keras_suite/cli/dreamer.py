"""`keras-suite dreamer`: DreamerV2 world models and behaviour learned in imagination."""

import json
import os


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "dreamer", help="DreamerV2: world models, behaviour learned in imagination, Atari"
    )
    parser.add_argument("--out", default="out/dreamer", help="output folder (the logdir)")
    parser.add_argument(
        "--env",
        default="atari:pong",
        help="atari:<ALE ROM id> (e.g. atari:pong) or a gymnasium id: image observations go "
        "to the conv encoder, vector ones (e.g. CartPole-v1's state) to the MLP encoder, or "
        "--render trains on the rendered frames instead",
    )
    parser.add_argument(
        "--config", default="atari", choices=["atari", "dmc", "small", "tiny"], help="hparams"
    )
    parser.add_argument("--steps", type=int, default=1_000_000, help="environment steps")
    parser.add_argument("--prefill", type=int, default=None, help="override the random prefill")
    parser.add_argument("--time-limit", type=int, default=27000, help="episode limit (steps)")
    parser.add_argument("--render", action="store_true", help="use env.render() as the image")
    parser.add_argument("--jit", action="store_true", help="compile the train step with XLA")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--eval-preset", default=None, help="only evaluate this preset (name or folder)"
    )
    parser.set_defaults(func=run)
    return parser


def make_env(name, time_limit=27000, render=False, seed=0):
    """`atari:<game>` as `keras_suite.envs.atari.Atari`, any other id through `GymAdapter`."""
    if name.startswith("atari:"):
        from keras_suite.envs.atari import Atari

        return Atari(name.split(":", 1)[1], time_limit=time_limit, seed=seed)
    from keras_suite.envs import GymAdapter

    return GymAdapter(name, size=(64, 64), grayscale=True, render=render, seed=seed)


def run(args):
    from keras_suite.zoo.dreamer import DreamerV2, get_config
    from keras_suite.zoo.dreamer.trainer import Trainer

    env = make_env(args.env, args.time_limit, args.render, args.seed)
    obs_shape = observation_shape(env.reset())
    if args.eval_preset:
        agent = DreamerV2.from_preset(args.eval_preset)
        agent.compile()
        trainer = Trainer(agent, env, args.out, prefill=0, seed=args.seed)
        print(json.dumps({"eval_return": trainer.evaluate(1)}))
        return 0
    config = get_config(args.config)
    loop = config["loop"]
    if args.prefill is not None:
        loop["prefill"] = args.prefill
    agent = DreamerV2.from_hparams(
        args.config,
        obs_shape,
        env.num_actions,
        continuous_actions=env_is_continuous(env),
        seed=args.seed,
    )
    Trainer(agent, env, args.out, jit_compile=args.jit, seed=args.seed, **loop).run(args.steps)
    agent.save_to_preset(os.path.join(args.out, "preset"), metadata={"env": args.env})
    print(f"trained {args.steps} steps; logs, videos and preset in {args.out}")
    return 0


def observation_shape(obs):
    """The agent's `obs_shape` for an environment's observation dict: the `image` shape when
    there is an image, else a dict of the vector keys' shapes (e.g. `{"vector": (4,)}`)."""
    import numpy as np

    if "image" in obs:
        return tuple(np.shape(obs["image"]))
    reserved = ("reward", "is_first", "is_last", "is_terminal", "life_loss")
    shapes = {k: np.shape(v) for k, v in obs.items() if k not in reserved and np.ndim(v) == 1}
    if not shapes:
        raise ValueError(
            "The environment's observations hold neither an `image` nor a vector; use --render "
            f"for environments that can render frames. Received: keys={sorted(obs)}"
        )
    return shapes


def env_is_continuous(env):
    return bool(getattr(env, "continuous", False))


def plot_losses(metrics_path, png_path):
    """Plots the training losses and episode returns of a `metrics.jsonl` file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(metrics_path) as f:
        rows = [json.loads(line) for line in f]
    keys = ["train/image_loss", "train/reward_loss", "train/kl", "train/critic_loss"]
    fig, axes = plt.subplots(1, len(keys) + 1, figsize=(4 * (len(keys) + 1), 3))
    for ax, key in zip(axes, keys + ["episode/return"]):
        points = [(r["step"], r[key]) for r in rows if key in r]
        if points:
            ax.plot(*zip(*points), marker=".")
        ax.set_title(key)
        ax.set_xlabel("env step")
    fig.tight_layout()
    fig.savefig(png_path, dpi=80)
    plt.close(fig)
    return png_path


def run_demo(out_dir):
    """Runs the short demo of this system, writing into `out_dir`.

    Trains the `tiny` config on ALE Pong (episodes cut at 150 steps) for 1,200 environment
    steps, then writes `losses.png` (the loss curves), an open-loop video prediction
    (`videos/demo.gif` and `videos/demo.png`: truth, model, error rows) and the agent as a
    preset folder.
    """
    import shutil

    from keras_suite.zoo.dreamer import DreamerV2, get_config
    from keras_suite.zoo.dreamer.trainer import Trainer

    shutil.rmtree(out_dir, ignore_errors=True)
    env = make_env("atari:pong", time_limit=150, seed=0)
    agent = DreamerV2.from_hparams("tiny", env.obs_shape, env.num_actions, seed=0)
    loop = dict(
        get_config("tiny")["loop"],
        prefill=300,
        train_every=5,
        log_every=100,
        eval_every=10**9,
        checkpoint_every=10**9,
    )
    trainer = Trainer(agent, env, out_dir, **loop).run(1200)
    gif, png = trainer.write_video("demo", length=40)
    losses = plot_losses(
        os.path.join(out_dir, "metrics.jsonl"), os.path.join(out_dir, "losses.png")
    )
    agent.save_to_preset(os.path.join(out_dir, "preset"), metadata={"env": "atari:pong"})
    print(f"{trainer.updates} train steps; wrote {losses}, {gif}, {png}")
