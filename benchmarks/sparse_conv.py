"""SparseConv3D speed on each Keras backend, side by side.

1. SparseConv3D forward+backward (kernel map included) vs a dense `keras.layers.Conv3D` with
   the same weights on a 64^3 grid at 1% occupancy, 32 -> 32 channels.
2. SparseConv3D forward (kernel map included) on a ~100k-voxel scan-like scene (floor, walls,
   box surfaces), 64 -> 64 channels.
3. Kernel map (k=3) build alone on the scene of [2].

Each backend runs in its own subprocess (`KERAS_BACKEND` is fixed per process), and the backends
alternate for `--rounds` rounds because the machine may be shared; the median over rounds is
printed. Steps are compiled the way each backend trains: `jax.jit` on JAX, `tf.function` on
TensorFlow, eager on PyTorch.

With `--spconv-python PATH` (an interpreter whose environment holds torch and spconv, e.g. a
separate venv with `pip install torch==2.13.0 spconv`; never a dependency of keras-suite) each
round also times spconv's `SubMConv3d` forward, kernel map included, on the same scene
(`spconv/sparse_conv_spconv.py`), with `OMP_WAIT_POLICY=PASSIVE`: torch's OpenMP threads
otherwise busy-wait, and on a shared machine its times collapse.

Run: `python benchmarks/sparse_conv.py` (`--quick` for a 32^3 grid and a 20k-voxel scene,
`--backends jax,tensorflow` to choose).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

BACKENDS = ("jax", "tensorflow", "torch")


def best_time(fn, repeats=3):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def random_voxels(extent, count, channels, seed=0):
    rng = np.random.default_rng(seed)
    flat = rng.choice(extent**3, count, replace=False)
    xyz = np.stack(np.unravel_index(flat, (extent,) * 3), -1).astype("int32")[None]
    features = rng.normal(size=(1, count, channels)).astype("float32")
    return features, xyz, np.array([count], "int32")


def scan_like_voxels(target, channels, seed=0):
    """A room of about `target` surface voxels: floor, four walls and box-shaped furniture."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(target / 2.2))
    height = side // 4
    cells = set()
    g = np.arange(side)
    cells.update((x, y, 0) for x in g for y in g)
    for h in range(height):
        cells.update((x, 0, h) for x in g)
        cells.update((x, side - 1, h) for x in g)
        cells.update((0, y, h) for y in g)
        cells.update((side - 1, y, h) for y in g)
    while len(cells) < target:
        x0, y0 = rng.integers(2, side - 20, 2)
        sx, sy, sz = rng.integers(4, 18, 3)
        for x in range(x0, x0 + sx):
            for y in range(y0, y0 + sy):
                cells.add((x, y, sz))
        for z in range(1, sz):
            for x in range(x0, x0 + sx):
                cells.update({(x, y0, z), (x, y0 + sy - 1, z)})
            for y in range(y0, y0 + sy):
                cells.update({(x0, y, z), (x0 + sx - 1, y, z)})
    xyz = np.array(sorted(cells)[:target], "int32")[None]
    features = rng.normal(size=(1, xyz.shape[1], channels)).astype("float32")
    return features, xyz, np.array([xyz.shape[1]], "int32")


def gradient_step(layer, backend):
    """A compiled `(weights, *inputs) -> gradients of sum(layer(*inputs))` for `backend`."""
    from keras import ops

    def loss(weights, *inputs):
        return ops.sum(layer.stateless_call(weights, [], *inputs)[0])

    if backend == "jax":
        import jax

        return jax.jit(jax.grad(loss, argnums=(0, 1)))
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def step(weights, *inputs):
            with tf.GradientTape() as tape:
                tape.watch([weights, inputs[0]])
                value = loss(weights, *inputs)
            return tape.gradient(value, [weights, inputs[0]])

        return step

    def torch_step(weights, *inputs):
        weights = [w.detach().requires_grad_(True) for w in weights]
        x = ops.convert_to_tensor(inputs[0]).detach().requires_grad_(True)
        loss(weights, x, *inputs[1:]).backward()
        return [w.grad for w in weights] + [x.grad]

    return torch_step


def forward_step(fn, backend):
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    import torch

    def no_grad(*args):
        with torch.no_grad():
            return fn(*args)

    return no_grad


def worker(backend, quick):
    """Runs the measurements under `backend` (already set in the environment); returns a dict."""
    import keras
    from keras import ops

    from keras_suite.layers import SparseConv3D
    from keras_suite.ops import build_kernel_map

    def run(fn, *args):
        return lambda: keras.tree.map_structure(ops.convert_to_numpy, fn(*args))

    to_tensor = ops.convert_to_tensor
    extent = 32 if quick else 64
    count = extent**3 // 100
    features, xyz, num_valid = random_voxels(extent, count, 32)
    sparse = SparseConv3D(32, 3)
    sparse(features, xyz, num_valid)
    dense = keras.layers.Conv3D(32, 3, padding="same")
    grid = np.zeros((1, extent, extent, extent, 32), "float32")
    grid[0, xyz[0, :, 0], xyz[0, :, 1], xyz[0, :, 2]] = features[0]
    dense.build(grid.shape)
    dense.set_weights(sparse.get_weights())
    sparse_weights = [to_tensor(w) for w in sparse.get_weights()]
    dense_weights = [to_tensor(w) for w in dense.get_weights()]
    args = [to_tensor(a) for a in (features, xyz, num_valid)]
    t_sparse = best_time(run(gradient_step(sparse, backend), sparse_weights, *args))
    t_dense = best_time(
        run(gradient_step(dense, backend), dense_weights, to_tensor(grid)), repeats=2
    )

    target = 20_000 if quick else 100_000
    features, xyz, num_valid = scan_like_voxels(target, 64)
    sparse64 = SparseConv3D(64, 3, use_bias=False)
    sparse64.build(features.shape)
    weights = [to_tensor(w) for w in sparse64.get_weights()]
    args = [to_tensor(a) for a in (features, xyz, num_valid)]
    forward = forward_step(lambda w, *a: sparse64.stateless_call(w, [], *a)[0], backend)
    t_forward = best_time(run(forward, weights, *args))
    build = forward_step(lambda a, b: build_kernel_map(a, b, 3), backend)
    t_map = best_time(run(build, *args[1:]))
    return {
        "backend": backend,
        "grid": extent,
        "voxels_1": count,
        "sparse_fwd_bwd": t_sparse,
        "dense_fwd_bwd": t_dense,
        "voxels_2": int(xyz.shape[1]),
        "scene_forward": t_forward,
        "kernel_map": t_map,
        "load": os.getloadavg()[0],
    }


def run_worker(backend, quick):
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, __file__, "--worker", backend] + (["--quick"] if quick else [])
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"The {backend} worker failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_spconv(python, quick, threads=2):
    """spconv's forward time on the scene of [2], from the peer interpreter `python`."""
    _, xyz, _ = scan_like_voxels(20_000 if quick else 100_000, 64)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spconv")
    with tempfile.TemporaryDirectory() as folder:
        coords = os.path.join(folder, "coords.npy")
        np.save(coords, xyz[0])
        command = [python, os.path.join(script, "sparse_conv_spconv.py"), coords]
        command += ["--channels", "64", "--threads", str(threads)]
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"The spconv peer failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(backends, quick=False, rounds=3, spconv_python=None):
    results = {backend: [] for backend in backends}
    peer = []
    for round_index in range(rounds):
        if spconv_python:
            peer.append(run_spconv(spconv_python, quick))
            print(
                f"round {round_index + 1} spconv    : scene forward "
                f"{peer[-1]['seconds'] * 1e3:.1f} ms (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        for backend in backends:
            result = run_worker(backend, quick)
            results[backend].append(result)
            print(
                f"round {round_index + 1} {backend:10s}: sparse fwd+bwd "
                f"{result['sparse_fwd_bwd'] * 1e3:.1f} ms, dense "
                f"{result['dense_fwd_bwd'] * 1e3:.1f} ms, scene forward "
                f"{result['scene_forward'] * 1e3:.1f} ms, kernel map "
                f"{result['kernel_map'] * 1e3:.1f} ms (load {result['load']:.1f})",
                flush=True,
            )
    first = results[backends[0]][0]
    print(
        f"\nMedians over {rounds} rounds. [1] {first['grid']}^3 grid, {first['voxels_1']} "
        f"voxels (1%), 32->32, fwd+bwd incl. kernel map. [2] scan-like scene, "
        f"{first['voxels_2']} voxels, 64->64 forward incl. kernel map. [3] kernel map alone."
    )
    print(
        f"{'backend':10s} {'[1] sparse':>12s} {'[1] dense':>12s} {'speed-up':>9s} "
        f"{'[2] forward':>12s} {'[3] map':>10s}"
    )
    spconv = float(np.median([r["seconds"] for r in peer])) if peer else None
    if peer:
        print(
            f"{'spconv':10s} {'':>12s} {'':>12s} {'':>9s} {spconv * 1e3:10.1f}ms"
            f"   (spconv {peer[0]['spconv']}, torch {peer[0]['torch']}; x > 1: faster than spconv)"
        )
    for backend in backends:
        median = {
            key: float(np.median([r[key] for r in results[backend]]))
            for key in ("sparse_fwd_bwd", "dense_fwd_bwd", "scene_forward", "kernel_map")
        }
        print(
            f"{backend:10s} {median['sparse_fwd_bwd'] * 1e3:10.1f}ms "
            f"{median['dense_fwd_bwd'] * 1e3:10.1f}ms "
            f"x{median['dense_fwd_bwd'] / median['sparse_fwd_bwd']:8.1f} "
            f"{median['scene_forward'] * 1e3:10.1f}ms {median['kernel_map'] * 1e3:8.1f}ms"
            + (f"   [2] vs spconv: x{spconv / median['scene_forward']:.2f}" if peer else "")
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument(
        "--spconv-python", default=None, help="an interpreter with torch and spconv (the peer)"
    )
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.quick)))
    else:
        main(args.backends.split(","), args.quick, args.rounds, args.spconv_python)
