import numpy as np
import pytest
import tensorflow as tf

from keras_suite.ops import build_kernel_map
from keras_suite.ops.sparse_kernel_map import MAX_INDEX, kernel_offsets
from keras_suite.testing import TestCase


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
        table = build_kernel_map(xyz, np.array([2], "int32"), 3).numpy()
        self.assertEqual(table[0, 0, 14], 1)
        self.assertTrue(np.all(table[0, 2] == -1))

    def test_large_extent_does_not_overflow(self):
        # Waymo-like extent at 0.1 m: 3000 cells per axis, and indices near the upper limit.
        xyz = np.array([[[0, 0, 0], [MAX_INDEX, MAX_INDEX, MAX_INDEX], [MAX_INDEX - 1] * 3]])
        xyz = xyz.astype("int32")
        table = build_kernel_map(xyz, np.array([3], "int32"), 3).numpy()
        self.assertAllEqual(table, brute_force_table(xyz, np.array([3]), 3))
        self.assertEqual(table[0, 1, 0], 2)

    def test_runs_under_xla(self):
        rng = np.random.default_rng(1)
        xyz, num_valid = random_scene(rng, 2, 50, 6, [50, 30])
        compiled = tf.function(lambda a, b: build_kernel_map(a, b, 3), jit_compile=True)
        self.assertAllEqual(compiled(xyz, num_valid), brute_force_table(xyz, num_valid, 3))

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
