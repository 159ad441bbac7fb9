"""DreamerV2 speed: train steps/s and imagined states/s, graph vs XLA vs eager.

For each config (batch 16 x 50 for `small` and `atari`, 8 x 16 for `tiny`), times one full
DreamerV2 update (world model + actor + critic, imagination horizon 15) on random Atari-shaped
data, compiled three ways in the same process: eagerly (the straightforward baseline, Python
stepping through every op), as a TensorFlow graph (`tf.function`, the time loops as
`tf.while_loop`), and with XLA (`jit_compile=True`). Prints seconds per step, train steps/s,
imagined states/s (batch * time * horizon per step) and the speed-up over eager. It also times
the policy step (the per-environment-step cost of acting).

    .venv/bin/python benchmarks/dreamer.py [--configs tiny small atari] [--steps 3]
"""

import argparse
import time

import numpy as np
import tensorflow as tf

from keras_suite.zoo.dreamer import DreamerV2, get_config


def _batch(batch, steps, actions=6, seed=0):
    rng = np.random.default_rng(seed)
    is_first = np.zeros((batch, steps), "float32")
    is_first[:, 0] = 1
    return {
        "image": rng.integers(0, 255, (batch, steps, 64, 64, 1)).astype("uint8"),
        "action": np.eye(actions, dtype="float32")[rng.integers(0, actions, (batch, steps))],
        "reward": rng.normal(size=(batch, steps)).astype("float32"),
        "is_first": is_first,
        "is_terminal": np.zeros((batch, steps), "float32"),
    }


def time_train(config, mode, batch, steps, repeats):
    agent = DreamerV2.from_hparams(config, (64, 64, 1), 6, seed=0)
    agent.compile(jit_compile=mode == "xla", run_eagerly=mode == "eager")
    data = {k: tf.constant(v) for k, v in _batch(batch, steps).items()}
    start = time.perf_counter()
    agent.train_on_batch(data)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(repeats):
        logs = agent.train_on_batch(data, return_dict=True)
    per_step = (time.perf_counter() - start) / repeats
    assert np.isfinite(logs["loss"]), logs
    return first, per_step, agent


def time_policy(agent, repeats=50):
    obs = {"image": np.zeros((1, 64, 64, 1), np.uint8), "is_first": np.ones(1)}
    _, state = agent.policy(obs, None, training=True)
    obs["is_first"] = np.zeros(1)
    start = time.perf_counter()
    for _ in range(repeats):
        _, state = agent.policy(obs, state, training=True)
    return (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["tiny", "small", "atari"])
    parser.add_argument("--modes", nargs="+", default=["eager", "graph", "xla"])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode")
    args = parser.parse_args()
    for config in args.configs:
        loop = get_config(config)["loop"]
        batch, steps = loop["batch_size"], loop["seq_len"]
        horizon = get_config(config)["model"]["horizon"]
        results = {}
        for mode in args.modes:
            first, per_step, agent = time_train(config, mode, batch, steps, args.steps)
            results[mode] = per_step
            line = (
                f"{config:6s} {mode:5s} batch {batch}x{steps}: first call {first:7.2f} s, "
                f"{per_step:7.3f} s/step, {1 / per_step:6.2f} steps/s, "
                f"{batch * steps * horizon / per_step:9.0f} imagined states/s"
            )
            if mode == "graph":
                line += f", policy step {1000 * time_policy(agent):.1f} ms"
            print(line, flush=True)
        if "eager" in results:
            ratios = ", ".join(
                f"{m} {results['eager'] / t:.2f}x" for m, t in results.items() if m != "eager"
            )
            print(f"{config:6s} speed-up over eager: {ratios}", flush=True)


if __name__ == "__main__":
    main()
