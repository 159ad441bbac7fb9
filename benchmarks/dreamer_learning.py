"""DreamerV2 learning evidence on a 64x64 pixel rendering of CartPole, under a CPU budget.

The environment is `keras_suite.envs.PixelCartPole`: CartPole-v1 seen only through 64x64
grayscale images drawn from its state (cart and pole; no pygame needed). The agent is
DreamerV2 with the `tiny` config; it trains with the resumable `Trainer` until the wall-clock
budget is spent, and the greedy return is evaluated along the way. The script first measures
the return of a uniformly random policy in the same process and prints the learning curve as
ratios to it.

    nice -n 10 .venv/bin/python benchmarks/dreamer_learning.py --budget 1500 --out /tmp/cartpole
"""

import argparse
import json
import os
import time

import numpy as np

from keras_suite.zoo.dreamer import DreamerV2, Trainer, get_config, make_env


def random_return(env, episodes, rng):
    returns = []
    for _ in range(episodes):
        obs, total = env.reset(), 0.0
        while not obs["is_last"]:
            obs = env.step(np.eye(2)[rng.integers(2)])
            total += obs["reward"]
        returns.append(total)
    return float(np.mean(returns))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=900, help="wall-clock seconds")
    parser.add_argument("--out", default="/tmp/dreamer_cartpole")
    parser.add_argument("--chunk", type=int, default=1000, help="env steps between evaluations")
    args = parser.parse_args()
    start = time.time()
    baseline = random_return(make_env("cartpole_pixels", seed=10_000), 50, np.random.default_rng(0))
    print(f"random policy: mean return {baseline:.1f} over 50 episodes", flush=True)
    env = make_env("cartpole_pixels", seed=0)
    agent = DreamerV2.from_hparams("tiny", env.obs_shape, 2, discount=0.99, seed=0)
    loop = dict(
        get_config("tiny")["loop"],
        prefill=1000,
        train_every=4,
        eval_every=10**9,
        log_every=500,
        checkpoint_every=10**9,
    )
    trainer = Trainer(
        agent, env, args.out, eval_env=make_env("cartpole_pixels", seed=20_000), **loop
    )
    curve = []
    while time.time() - start < args.budget:
        trainer.run(trainer.step + args.chunk)
        score = trainer.evaluate(5)
        elapsed = time.time() - start
        curve.append(
            {
                "step": trainer.step,
                "updates": trainer.updates,
                "seconds": elapsed,
                "eval_return": score,
            }
        )
        print(
            f"step {trainer.step:6d} updates {trainer.updates:5d} {elapsed:6.0f} s: "
            f"greedy return {score:6.1f} = {score / baseline:.2f}x random",
            flush=True,
        )
    with open(os.path.join(args.out, "learning_curve.json"), "w") as f:
        json.dump({"random_return": baseline, "curve": curve}, f, indent=1)


if __name__ == "__main__":
    main()
