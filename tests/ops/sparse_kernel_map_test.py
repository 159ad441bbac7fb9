import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.ops import apply_kernel_map, build_kernel_map
from keras_suite.ops.sparse_kernel_map import (
    MAX_INDEX,
    compact_keys,
    kernel_offsets,
    lexsort_rows,
    search_sorted_keys,
)
from keras_suite.testing import TestCase
from keras_suite.testing.test_case import value_and_gradients


def random_scene(rng, batch, num_voxels, extent, num_valid):
    xyz = np.zeros((batch, num_voxels, 3), "int32")
    for b in range(batch):
        flat = rng.choice(extent**3, num_voxels, replace=False)
        xyz[b] = np.stack(np.unravel_index(flat, (extent,) * 3), -1)
    return xyz, np.asarray(num_valid, "int32")


def brute_force_table(xyz, num_valid, kernel_size):
    batch, num_voxels, _ = xyz.shape
    offsets = kernel_offsets(kernel_size)
    table = -np.ones((batch, num_voxels, len(offsets)), "int32")
    for b in range(batch):
        where = {tuple(xyz[b, i]): i for i in range(num_valid[b])}
        for i in range(num_valid[b]):
            for o, delta in enumerate(offsets):
                table[b, i, o] = where.get(tuple(xyz[b, i] + delta), -1)
    return table


class BuildKernelMapTest(TestCase):
    def test_matches_brute_force(self):
        rng = np.random.default_rng(0)
        xyz, num_valid = random_scene(rng, 3, 80, 7, [80, 41, 0])
        for kernel_size in (1, 3, 5):
            table = build_kernel_map(xyz, num_valid, kernel_size)
            self.assertAllEqual(table, brute_force_table(xyz, num_valid, kernel_size))

    def test_padding_rows_with_garbage_are_ignored(self):
        xyz = np.array([[[0, 0, 0], [0, 0, 1], [0, 0, 1]]], "int32")
        table = ops.convert_to_numpy(build_kernel_map(xyz, np.array([2], "int32"), 3))
        self.assertEqual(table[0, 0, 14], 1)
        self.assertTrue(np.all(table[0, 2] == -1))

    def test_large_extent_does_not_overflow(self):
        # Waymo-like extent at 0.1 m: 3000 cells per axis, and indices near the upper limit.
        xyz = np.array([[[0, 0, 0], [MAX_INDEX, MAX_INDEX, MAX_INDEX], [MAX_INDEX - 1] * 3]])
        xyz = xyz.astype("int32")
        table = ops.convert_to_numpy(build_kernel_map(xyz, np.array([3], "int32"), 3))
        self.assertAllEqual(table, brute_force_table(xyz, np.array([3]), 3))
        self.assertEqual(table[0, 1, 0], 2)

    def test_runs_compiled(self):
        rng = np.random.default_rng(1)
        xyz, num_valid = random_scene(rng, 2, 50, 6, [50, 30])
        backend = keras.config.backend()
        if backend == "jax":
            import jax

            compiled = jax.jit(lambda a, b: build_kernel_map(a, b, 3))
        elif backend == "tensorflow":
            import tensorflow as tf

            compiled = tf.function(lambda a, b: build_kernel_map(a, b, 3))
        else:
            pytest.skip(f"no compiled graphs on backend={backend}")
        self.assertAllEqual(compiled(xyz, num_valid), brute_force_table(xyz, num_valid, 3))


def brute_force_conv(features, xyz, num_valid, kernel):
    """Loops over every valid voxel and every offset, reading neighbours from a dict."""
    kernel_size = kernel.shape[0]
    offsets = kernel_offsets(kernel_size)
    flat_kernel = kernel.reshape(len(offsets), kernel.shape[3], kernel.shape[4])
    out = np.zeros(features.shape[:2] + kernel.shape[-1:], "float64")
    for b in range(features.shape[0]):
        where = {tuple(xyz[b, i]): i for i in range(num_valid[b])}
        for i in range(num_valid[b]):
            for o, delta in enumerate(offsets):
                j = where.get(tuple(xyz[b, i] + delta))
                if j is not None:
                    out[b, i] += features[b, j] @ flat_kernel[o]
    return out


class ApplyKernelMapTest(TestCase):
    def test_matches_brute_force_forward_and_gradients(self):
        rng = np.random.default_rng(7)
        xyz, num_valid = random_scene(rng, 2, 70, 6, [70, 33])
        features = rng.normal(size=(2, 70, 3)).astype("float32")
        upstream = rng.normal(size=(2, 70, 4)).astype("float32")
        for kernel_size in (1, 3):
            kernel = rng.normal(size=(kernel_size,) * 3 + (3, 4)).astype("float32")
            table = build_kernel_map(xyz, num_valid, kernel_size)
            out = ops.convert_to_numpy(apply_kernel_map(features, table, kernel))
            expected = brute_force_conv(features, xyz, num_valid, kernel)
            self.assertAllClose(out, expected, atol=1e-5)

            def loss(x, k, table=table):
                return ops.sum(ops.multiply(apply_kernel_map(x, table, k), upstream))

            # The loss is linear in features and kernel: each gradient is the brute-force
            # convolution of a one-hot input, read off the upstream product.
            _, (feature_grad, kernel_grad) = value_and_gradients(loss, [features, kernel])
            expected_kernel_grad = np.zeros(kernel.shape, "float64")
            for index in np.ndindex(kernel.shape):
                one_hot = np.zeros(kernel.shape, "float32")
                one_hot[index] = 1.0
                expected_kernel_grad[index] = np.sum(
                    brute_force_conv(features, xyz, num_valid, one_hot) * upstream
                )
            self.assertAllClose(kernel_grad, expected_kernel_grad, atol=1e-4)
            expected_feature_grad = np.zeros(features.shape, "float64")
            for b, i, c in np.ndindex(features.shape):
                if i >= num_valid[b]:
                    continue
                one_hot = np.zeros(features.shape, "float32")
                one_hot[b, i, c] = 1.0
                expected_feature_grad[b, i, c] = np.sum(
                    brute_force_conv(one_hot, xyz, num_valid, kernel) * upstream
                )
            # Padding rows are never read, so their gradient is zero.
            self.assertAllClose(feature_grad, expected_feature_grad, atol=1e-4)

    def test_bad_inputs(self):
        table = np.full((1, 2, 27), -1, "int32")
        with pytest.raises(ValueError, match="`kernel` must have shape"):
            apply_kernel_map(np.ones((1, 2, 3), "float32"), table, np.ones((3, 3, 3), "float32"))
        with pytest.raises(ValueError, match="`kernel_map` must be int32"):
            apply_kernel_map(
                np.ones((1, 2, 3), "float32"), table[..., :8], np.ones((3, 3, 3, 3, 4))
            )
        with pytest.raises(ValueError, match="`voxel_features` must have shape"):
            apply_kernel_map(np.ones((1, 2, 5), "float32"), table, np.ones((3, 3, 3, 3, 4)))
        with pytest.raises(ValueError, match="same \\(batch, num_voxels\\)"):
            apply_kernel_map(np.ones((1, 3, 3), "float32"), table, np.ones((3, 3, 3, 3, 4)))


class SortAndSearchTest(TestCase):
    def test_lexsort_rows_matches_numpy(self):
        rng = np.random.default_rng(2)
        high = rng.integers(0, 5, (3, 40)).astype("int32")
        high[1, :5] = np.iinfo(np.int32).max
        low = rng.permutation(120).reshape(3, 40).astype("int32")
        order = ops.convert_to_numpy(lexsort_rows(high, low))
        for b in range(3):
            self.assertAllEqual(order[b], np.lexsort((low[b], high[b])))

    def test_search_sorted_keys_matches_brute_force(self):
        rng = np.random.default_rng(3)
        pairs = np.unique(rng.integers(0, 6, (50, 2)), axis=0).astype("int32")[None]
        queries = rng.integers(-1, 8, (1, 70, 2)).astype("int32")
        found = search_sorted_keys(pairs[..., 0], pairs[..., 1], queries[..., 0], queries[..., 1])
        expected = [sum(tuple(p) < tuple(q) for p in pairs[0]) for q in queries[0]]
        self.assertAllEqual(found, np.array([expected]))

    def test_compact_keys_matches_brute_force(self):
        rng = np.random.default_rng(4)
        high = rng.integers(0, 3, (2, 30)).astype("int32")
        low = rng.integers(0, 4, (2, 30)).astype("int32")
        high[1, 20:] = low[1, 20:] = np.iinfo(np.int32).max
        ids, counts, representative = compact_keys((high, low), capacity=6)
        ids, counts = ops.convert_to_numpy(ids), ops.convert_to_numpy(counts)
        representative = ops.convert_to_numpy(representative)
        for b, n in ((0, 30), (1, 20)):
            distinct = sorted(set(zip(high[b, :n], low[b, :n])))
            self.assertEqual(counts[b], min(len(distinct), 6))
            for i in range(30):
                key = (high[b, i], low[b, i])
                rank = distinct.index(key) if i < n else -1
                self.assertEqual(ids[b, i], rank if rank < 6 else -1)
            for slot in range(counts[b]):
                row = representative[b, slot] - b * 30
                self.assertEqual((high[b, row], low[b, row]), distinct[slot])

    def test_bad_inputs(self):
        xyz = np.zeros((1, 2, 3), "int32")
        with pytest.raises(ValueError, match="int32 of shape"):
            build_kernel_map(xyz.astype("float32"), np.array([1], "int32"))
        with pytest.raises(ValueError, match="int32 of shape"):
            build_kernel_map(np.zeros((1, 2), "int32"), np.array([1], "int32"))
        with pytest.raises(ValueError, match="num_valid_voxels"):
            build_kernel_map(xyz, np.array([3], "int32"))
        with pytest.raises(ValueError, match="repeat a voxel"):
            build_kernel_map(xyz, np.array([2], "int32"))
        with pytest.raises(ValueError, match="must lie in"):
            build_kernel_map(-np.ones((1, 2, 3), "int32"), np.array([1], "int32"))
        with pytest.raises(ValueError, match="kernel_size"):
            build_kernel_map(xyz, np.array([1], "int32"), 2)
