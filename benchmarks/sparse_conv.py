"""SparseConv3D speed, printed as ratios against baselines measured in the same process.

1. SparseConv3D forward+backward vs a dense `keras.layers.Conv3D` on a 64^3 grid at 1%
   occupancy, 32 -> 32 channels.
2. SparseConv3D forward (kernel map included) vs a jit-compiled gather-all-27 + GEMM prototype
   on a ~100k-voxel scan-like scene (floor, walls, box surfaces), 64 -> 64 channels.
3. Useful work rate: 2 x (existing neighbour pairs) x C_in x C_out / time, as a fraction of
   this machine's dense GEMM rate.
4. Kernel map build time at 10k / 100k / 1M voxels.
5. With `--spconv-python PATH` (an interpreter of a separate venv holding torch and spconv,
   never a keras-suite dependency): spconv's `SubMConv3d` forward, indice build included, on
   the scene of [2], run by `benchmarks/spconv/sparse_conv_spconv.py` in a subprocess, alternating
   with our own measurement for `--rounds` rounds (the machine may be shared), printed as
   ratios and as spconv's useful work rate with the formula of [3].

Run: `python benchmarks/sparse_conv.py` (add `--quick` for smaller sizes,
`--spconv-python /tmp/spconv-venv/bin/python` for the spconv comparison).
"""

import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from keras_suite.layers import SparseConv3D
from keras_suite.ops import build_kernel_map


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


def gather_all_prototype(kernel_size):
    """A plain jit-compiled prototype: every voxel gathers all k^3 neighbours (zeros if empty)."""

    @tf.function(jit_compile=True)
    def conv(features, xyz, num_valid, kernel):
        table = build_kernel_map(xyz, num_valid, kernel_size)[0]
        flat = features[0]
        gathered = tf.gather(flat, tf.maximum(table, 0))
        gathered = tf.where(table[..., None] >= 0, gathered, 0.0)
        volume = kernel_size**3
        stacked = tf.reshape(gathered, [-1, volume * flat.shape[-1]])
        return tf.matmul(stacked, tf.reshape(kernel, [volume * flat.shape[-1], -1]))[None]

    return conv


def gemm_rate(size=2048):
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    matmul = tf.function(lambda: tf.matmul(a, b))
    return 2.0 * size**3 / best_time(lambda: matmul().numpy())


def spconv_seconds(spconv_python, xyz, channels):
    """Runs `sparse_conv_spconv.py` with `spconv_python` on these coordinates; returns its JSON."""
    script = pathlib.Path(__file__).parent / "spconv" / "sparse_conv_spconv.py"
    with tempfile.TemporaryDirectory() as folder:
        coords = os.path.join(folder, "coords.npy")
        np.save(coords, xyz)
        threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
        result = subprocess.run(
            [spconv_python, str(script), coords, "--channels", str(channels)]
            + ["--threads", str(threads)],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"The spconv script failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(quick=False, spconv_python=None, rounds=3):
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, devices: "
        f"{[d.device_type for d in tf.config.list_physical_devices()]}"
    )
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

    @tf.function
    def sparse_step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(sparse(x, xyz, num_valid))
        return tape.gradient(loss, [x] + sparse.trainable_weights)

    @tf.function
    def dense_step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(dense(x))
        return tape.gradient(loss, [x] + dense.trainable_weights)

    x_sparse, x_dense = tf.constant(features), tf.constant(grid)
    t_sparse = best_time(lambda: [g.numpy() for g in sparse_step(x_sparse)])
    t_dense = best_time(lambda: [g.numpy() for g in dense_step(x_dense)], repeats=2)
    print(
        f"[1] {extent}^3 grid, {count} voxels (1%), 32->32, fwd+bwd incl. kernel map: "
        f"SparseConv3D {t_sparse * 1e3:.1f} ms, dense Conv3D {t_dense * 1e3:.1f} ms, "
        f"speed-up x{t_dense / t_sparse:.1f}"
    )

    target = 20_000 if quick else 100_000
    features, xyz, num_valid = scan_like_voxels(target, 64)
    sparse64 = SparseConv3D(64, 3, use_bias=False)
    sparse64(features[:, :10], xyz[:, :10], np.array([10], "int32"))
    forward = tf.function(lambda x: sparse64(x, xyz, num_valid))
    prototype = gather_all_prototype(3)
    x = tf.constant(features)
    t_fast = best_time(lambda: forward(x).numpy())
    t_proto = best_time(lambda: prototype(x, xyz, num_valid, sparse64.kernel).numpy())
    np.testing.assert_allclose(
        forward(x).numpy(), prototype(x, xyz, num_valid, sparse64.kernel).numpy(), atol=1e-3
    )
    table = build_kernel_map(xyz, num_valid, 3).numpy()
    pairs = int((table >= 0).sum())
    print(
        f"[2] scan-like scene, {xyz.shape[1]} voxels, {pairs / xyz.shape[1]:.1f} neighbour "
        f"pairs per voxel, 64->64 fwd incl. kernel map: SparseConv3D {t_fast * 1e3:.1f} ms, "
        f"gather-all-27 XLA prototype {t_proto * 1e3:.1f} ms, speed-up x{t_proto / t_fast:.2f}"
    )
    rate = gemm_rate(1024 if quick else 2048)
    useful = 2.0 * pairs * 64 * 64 / t_fast
    print(
        f"[3] useful work {useful / 1e9:.1f} GFLOP/s vs dense GEMM {rate / 1e9:.1f} GFLOP/s: "
        f"fraction {useful / rate:.2f}"
    )
    if spconv_python is None:
        print("[5] spconv not measured (pass --spconv-python PATH to compare)")
    else:
        ratios = []
        for round_index in range(rounds):
            t_ours = best_time(lambda: forward(x).numpy())
            spconv = spconv_seconds(spconv_python, xyz[0], 64)
            ratios.append(spconv["seconds"] / t_ours)
            # The scene's pair count: spconv stores only half of a submanifold conv's pairs
            # (offset k and its mirror share one list) but still does the work of all of them.
            spconv_useful = 2.0 * pairs * 64 * 64 / spconv["seconds"]
            print(
                f"[5] round {round_index + 1}: SparseConv3D {t_ours * 1e3:.1f} ms, spconv "
                f"{spconv['spconv']} (torch {spconv['torch']}, {spconv['threads']} threads) "
                f"{spconv['seconds'] * 1e3:.1f} ms: ours x"
                f"{ratios[-1]:.2f} faster; spconv useful work {spconv_useful / 1e9:.1f} "
                f"GFLOP/s = fraction {spconv_useful / rate:.2f} of GEMM; ours "
                f"{2.0 * pairs * 64 * 64 / t_ours / rate:.2f}; load average "
                f"{os.getloadavg()[0]:.1f}"
            )
        print(f"[5] median speed-up vs spconv: x{np.median(ratios):.2f}")
    build = tf.function(lambda a, b: build_kernel_map(a, b, 3))
    for size in (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000):
        _, xyz_n, n = random_voxels(max(64, int(round((size * 8) ** (1 / 3)))), size, 1)
        t_build = best_time(lambda a=xyz_n, b=n: build(a, b).numpy(), repeats=2)
        print(f"[4] kernel map (k=3) build, {size} voxels: {t_build * 1e3:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--spconv-python", help="python of a venv with torch + spconv")
    parser.add_argument("--rounds", type=int, default=3, help="alternating spconv rounds")
    args = parser.parse_args()
    main(quick=args.quick, spconv_python=args.spconv_python, rounds=args.rounds)
