"""DreamerV2 speed: train steps/s and imagined states/s, graph vs XLA vs eager.

For each config (batch 16 x 50 for `small` and `atari`, 8 x 16 for `tiny`), times one full
DreamerV2 update (world model + actor + critic, imagination horizon 15) on random Atari-shaped
data, compiled three ways in the same process: eagerly (the straightforward baseline, Python
stepping through every op), as a TensorFlow graph (`tf.function`, the time loops as
`tf.while_loop`), and with XLA (`jit_compile=True`). Prints seconds per step, train steps/s,
imagined states/s (batch * time * horizon per step) and the speed-up over eager. It also times
the policy step (the per-environment-step cost of acting).

Each mode's time is the median of `--steps` timed steps; the process CPU time per step and the
load average (`os.getloadavg()`) are printed beside it, since the CPU may be shared. For scale,
it also prints the ratio against a quoted figure for a straightforward Keras DreamerV2 step on
this CPU (0.09 s tiny, 1.9 s small: quoted, not measured in this process), and a
compute floor: the step's floating-point operations counted from the layer sizes, divided by the
speed of a large float32 matrix product measured in this process in FLOPs per CPU-second times
the two threads TensorFlow uses (no implementation of the same maths beats that floor; CPU time
keeps the figure meaningful on a shared machine).

TensorFlow runs convolutions through oneDNN only where it turns oneDNN on by itself (CPUs with
AVX-512 or AMX); on this AVX2 CPU its default (Eigen) convolutions make the world-model update
about twice as slow. The benchmark turns oneDNN on unless `TF_ENABLE_ONEDNN_OPTS` is already set
(the variable only counts before TensorFlow is imported); run with `TF_ENABLE_ONEDNN_OPTS=0` for
TensorFlow's default.

With `--backends jax torch tensorflow` it also times the same update on each Keras backend
(`zoo/dreamer/backend/`: `jax.jit`, eager PyTorch, and the TensorFlow graph), each in its own
process since Keras takes its backend at import, and prints a per-backend table: seconds and
process CPU-seconds per update and their ratio to the TensorFlow graph's. With
`--peer-python PATH` (an interpreter with sheeprl 0.8.4, never a dependency) it also times
sheeprl's PyTorch DreamerV2 update at the same sizes (`benchmarks/sheeprl/dreamer_v2_update.py`),
in rounds alternating with keras-suite's PyTorch update. Every one of these processes runs with
`OMP_WAIT_POLICY=PASSIVE`: on a shared CPU, OpenMP threads that spin while waiting (the default)
made the PyTorch update ten times slower. The `minatar` config is timed on binary 10x10x4 grids
with 3 actions (MinAtar Breakout's), the others on Atari-shaped 64x64 frames.

    .venv/bin/python benchmarks/dreamer.py [--configs tiny small atari] [--steps 3]
    .venv/bin/python benchmarks/dreamer.py --configs tiny small --modes --backends jax torch \
        tensorflow [--peer-python /path/to/venv/bin/python --rounds 2]
    .venv/bin/python benchmarks/dreamer.py --configs minatar --modes --backends tensorflow
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_suite.zoo.dreamer import DreamerV2, get_config  # noqa: E402


def observation_spec(config):
    """`(image shape, actions, pixel levels)` of the data a config is timed on: MinAtar
    Breakout's binary 10x10x4 grid and 3 actions for `minatar`, Atari-shaped 64x64 grey frames
    and 6 actions otherwise."""
    return ((10, 10, 4), 3, 2) if config == "minatar" else ((64, 64, 1), 6, 256)


def _batch(batch, steps, actions=6, seed=0, shape=(64, 64, 1), levels=256):
    rng = np.random.default_rng(seed)
    is_first = np.zeros((batch, steps), "float32")
    is_first[:, 0] = 1
    return {
        "image": rng.integers(0, levels, (batch, steps, *shape)).astype("uint8"),
        "action": np.eye(actions, dtype="float32")[rng.integers(0, actions, (batch, steps))],
        "reward": rng.normal(size=(batch, steps)).astype("float32"),
        "is_first": is_first,
        "is_terminal": np.zeros((batch, steps), "float32"),
    }


# Quoted figures for a straightforward Keras DreamerV2 train step on this CPU (seconds).
QUOTED_REFERENCE = {"tiny": 0.09, "small": 1.9}


def time_updates(agent, data, repeats):
    """The first `train_on_batch` call's seconds, then the median seconds and process
    CPU-seconds of `repeats` more."""
    start = time.perf_counter()
    agent.train_on_batch(data)
    first = time.perf_counter() - start
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        logs = agent.train_on_batch(data, return_dict=True)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    assert np.isfinite(float(logs["loss"])), logs
    return first, float(np.median(walls)), float(np.median(cpus))


def time_train(config, mode, batch, steps, repeats):
    shape, actions, levels = observation_spec(config)
    agent = DreamerV2.from_hparams(config, shape, actions, seed=0)
    agent.compile(jit_compile=mode == "xla", run_eagerly=mode == "eager")
    data = _batch(batch, steps, actions, shape=shape, levels=levels)
    data = {k: tf.constant(v) for k, v in data.items()}
    return (*time_updates(agent, data, repeats), agent)


def train_step_flops(config, batch, steps):
    """Floating-point operations (2 per multiply-add) of one DreamerV2 update on the data of
    `observation_spec(config)`, counted from the layer sizes, by part: the world model forward
    and backward (the backward pass is the weight gradients plus the input gradients, which the
    encoder's first layer does not need: its input is data), imagination forward only
    (REINFORCE), the reward/discount/target-critic heads on the imagined states, and the actor
    and critic forward and backward (their first layers need no input gradient: the features
    are constants to them). Returns a dict from part to FLOPs."""
    (height, width, channels), actions, _ = observation_spec(config)
    m = get_config(config)["model"]
    d, deter, hidden = m["depth"], m["deter_size"], m["hidden_size"]
    stoch, units, layers = m["stoch_size"] * m["num_classes"], m["mlp_units"], m["mlp_layers"]
    feat, n, horizon = stoch + deter, batch * steps, m["horizon"]

    def head(out, inputs=feat):
        return inputs * units + (layers - 1) * units * units + units * out

    if (height, width) == (64, 64):  # the conv encoder and decoder
        embed, encoder, size, cin = 32 * d, 0, 64, channels
        for i in range(4):
            size = (size - 4) // 2 + 1
            encoder += size * size * 16 * cin * d * 2**i
            cin = d * 2**i
            if i == 0:
                first_layer = encoder
        decoder = feat * embed
        for size, k, cin, cout in ((1, 5, embed, 4 * d), (5, 5, 4 * d, 2 * d), (13, 6, 2 * d, d)):
            decoder += size * size * k * k * cin * cout
        decoder += 30 * 30 * 36 * d * channels
    else:  # grids are flattened through an MLP encoder and decoded by an MLP head
        cells = height * width * channels
        embed, first_layer = units, cells * units
        encoder = first_layer + (layers - 1) * units * units
        decoder = head(cells)

    img_step = (stoch + actions) * hidden + (hidden + deter) * 3 * deter + deter * hidden
    img_step += hidden * stoch
    obs_step = (deter + embed) * hidden + hidden * stoch
    model = n * (3 * (encoder + decoder + img_step + obs_step + 2 * head(1)) - first_layer)
    imagine = n * horizon * (img_step + head(actions))
    heads = n * horizon * 2 * head(1) + n * (horizon + 1) * head(1)
    learn = n * horizon * (3 * (head(actions) + head(1)) - 2 * feat * units)
    return {
        "world model": 2 * model,
        "imagination": 2 * imagine,
        "reward/discount/target heads": 2 * heads,
        "actor + critic": 2 * learn,
    }


def matmul_flops_per_cpu_second(size=1024, repeats=10):
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(lambda x, y: tf.matmul(x, y))
    product(a, b).numpy()
    start = time.process_time()
    for _ in range(repeats):
        product(a, b).numpy()
    return 2 * size**3 * repeats / (time.process_time() - start)


def time_policy(agent, repeats=50):
    shape = agent.world_model.image_shape
    obs = {"image": np.zeros((1, *shape), np.uint8), "is_first": np.ones(1)}
    _, state = agent.policy(obs, None, training=True)
    obs["is_first"] = np.zeros(1)
    start = time.perf_counter()
    for _ in range(repeats):
        _, state = agent.policy(obs, state, training=True)
    return (time.perf_counter() - start) / repeats


BACKENDS = ("jax", "torch", "tensorflow")
PEER_SCRIPT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "sheeprl", "dreamer_v2_update.py"
)


def time_backend_update(config, steps):
    """In a process whose `KERAS_BACKEND` is set: the first call, and the median seconds and
    process CPU-seconds of `steps` DreamerV2 updates (`train_on_batch`, the backend's own
    update: `jax.jit` on JAX, eager PyTorch, the TensorFlow graph)."""
    loop = get_config(config)["loop"]
    shape, actions, levels = observation_spec(config)
    agent = DreamerV2.from_hparams(config, shape, actions, seed=0)
    agent.compile()
    data = _batch(loop["batch_size"], loop["seq_len"], actions, shape=shape, levels=levels)
    first, wall, cpu = time_updates(agent, data, steps)
    return {"first": first, "wall": wall, "cpu": cpu}


def _run_json(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[1]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def backend_update(backend, config, steps):
    """`time_backend_update` in a fresh process on `backend`."""
    env = dict(os.environ, KERAS_BACKEND=backend, OMP_WAIT_POLICY="PASSIVE")
    command = [sys.executable, os.path.abspath(__file__), "--worker", config, "--steps", str(steps)]
    return _run_json(command, env)


def peer_update(python, config, steps):
    """sheeprl's DreamerV2 update at the sizes of `config`, timed by `python` (see
    `sheeprl/dreamer_v2_update.py`)."""
    model, loop = get_config(config)["model"], get_config(config)["loop"]
    keys = ("depth", "deter_size", "stoch_size", "num_classes", "hidden_size", "mlp_units")
    sizes = {k: model[k] for k in keys + ("mlp_layers", "horizon")}
    sizes.update(batch=loop["batch_size"], seq_len=loop["seq_len"])
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    return _run_json([python, PEER_SCRIPT, json.dumps(sizes), str(steps)], env)


def backend_table(configs, backends, steps, peer_python=None, rounds=2):
    """Prints, per config, each backend's seconds and CPU-seconds per update beside the
    TensorFlow graph's, and (with `peer_python`) sheeprl's PyTorch update against ours, the
    two timed in alternating rounds (the median of the rounds' medians)."""
    for config in configs:
        loop = get_config(config)["loop"]
        results = {b: backend_update(b, config, steps) for b in backends}
        if peer_python:
            ours, peers = [], []
            for _ in range(rounds):
                ours.append(backend_update("torch", config, steps))
                peers.append(peer_update(peer_python, config, steps))
            results["torch (rounds)"] = _median_of(ours)
            results["sheeprl 0.8.4 torch"] = _median_of(peers)
        reference = results.get("tensorflow")
        print(
            f"{config}: batch {loop['batch_size']}x{loop['seq_len']}, {steps} timed updates "
            f"per process, load {_load()}",
            flush=True,
        )
        print("| backend | first call s | s/update | CPU-s/update | vs TF graph (s, CPU-s) |")
        print("| --- | --- | --- | --- | --- |")
        for name, r in results.items():
            ratio = "-"
            if reference:
                ratio = f"{r['wall'] / reference['wall']:.2f}x, {r['cpu'] / reference['cpu']:.2f}x"
            print(
                f"| {name} | {r['first']:.2f} | {r['wall']:.3f} | {r['cpu']:.3f} | {ratio} |",
                flush=True,
            )
        if peer_python:
            ours, peer = results["torch (rounds)"], results["sheeprl 0.8.4 torch"]
            print(
                f"{config}: sheeprl / keras-suite (PyTorch, alternating rounds): "
                f"{peer['wall'] / ours['wall']:.2f}x seconds, {peer['cpu'] / ours['cpu']:.2f}x "
                "CPU-seconds per update",
                flush=True,
            )


def _median_of(runs):
    return {k: float(np.median([r[k] for r in runs])) for k in ("first", "wall", "cpu")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["tiny", "small", "atari"])
    parser.add_argument("--modes", nargs="*", default=["eager", "graph", "xla"])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode")
    parser.add_argument(
        "--backends",
        nargs="*",
        default=[],
        choices=BACKENDS,
        help="also time the update on these Keras backends, each in its own process",
    )
    parser.add_argument("--peer-python", help="interpreter with sheeprl 0.8.4 to compare with")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds with the peer")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(time_backend_update(args.worker, args.steps)))
        return
    if args.peer_python and not os.path.exists(args.peer_python):
        parser.error(f"--peer-python must be a Python interpreter. Received: {args.peer_python}")
    if args.backends or args.peer_python:
        backend_table(args.configs, args.backends, args.steps, args.peer_python, args.rounds)
    if not args.modes:
        return
    rate = matmul_flops_per_cpu_second()
    print(
        f"float32 1024x1024 matmul: {rate / 1e9:.1f} GFLOP per CPU-second, load {_load()}, "
        f"TF_ENABLE_ONEDNN_OPTS={os.environ['TF_ENABLE_ONEDNN_OPTS']}",
        flush=True,
    )
    for config in args.configs:
        loop = get_config(config)["loop"]
        batch, steps = loop["batch_size"], loop["seq_len"]
        horizon = get_config(config)["model"]["horizon"]
        parts = train_step_flops(config, batch, steps)
        flops = sum(parts.values())
        print(
            f"{config:6s} {flops / 1e9:.1f} GFLOP per train step ("
            + ", ".join(f"{k} {v / 1e9:.1f}" for k, v in parts.items())
            + f"): compute floor {flops / rate / 2:.3f} s/step on 2 threads at the matmul "
            "speed above",
            flush=True,
        )
        results = {}
        for mode in args.modes:
            first, per_step, cpu, agent = time_train(config, mode, batch, steps, args.steps)
            results[mode] = per_step
            line = (
                f"{config:6s} {mode:5s} batch {batch}x{steps}: first call {first:7.2f} s, "
                f"{per_step:7.3f} s/step (cpu {cpu:6.2f} s), {1 / per_step:6.2f} steps/s, "
                f"{batch * steps * horizon / per_step:9.0f} imagined states/s, "
                f"{flops / cpu / 1e9:5.1f} GFLOP per CPU-second, load {_load()}"
            )
            if config in QUOTED_REFERENCE:
                line += f", {QUOTED_REFERENCE[config] / per_step:.2f}x the quoted figure"
            if mode == "graph":
                line += f", policy step {1000 * time_policy(agent):.1f} ms"
            print(line, flush=True)
        if "eager" in results:
            ratios = ", ".join(
                f"{m} {results['eager'] / t:.2f}x" for m, t in results.items() if m != "eager"
            )
            print(f"{config:6s} speed-up over eager (same process): {ratios}", flush=True)


def _load():
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
