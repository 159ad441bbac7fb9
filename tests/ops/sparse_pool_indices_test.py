import numpy as np
import pytest
from keras import ops

from keras_suite.ops import pool_voxel_indices
from keras_suite.testing import TestCase


class PoolVoxelIndicesTest(TestCase):
    def test_matches_brute_force(self):
        rng = np.random.default_rng(0)
        xyz = rng.integers(0, 9, (2, 40, 3)).astype("int32")
        xyz[1] = np.unique(xyz[1], axis=0)[:40] if len(np.unique(xyz[1], axis=0)) >= 40 else xyz[1]
        num_valid = np.array([40, 13], "int32")
        for pool_size in (2, 3):
            pooled, count, parent = pool_voxel_indices(xyz, num_valid, pool_size)
            pooled, parent = ops.convert_to_numpy(pooled), ops.convert_to_numpy(parent)
            for b in range(2):
                cells = sorted({tuple(c) for c in xyz[b, : num_valid[b]] // pool_size})
                self.assertEqual(int(count[b]), len(cells))
                self.assertEqual([tuple(c) for c in pooled[b, : len(cells)]], cells)
                for i in range(num_valid[b]):
                    expected = cells.index(tuple(xyz[b, i] // pool_size))
                    self.assertEqual(int(parent[b, i]), expected)
                self.assertTrue(np.all(parent[b, num_valid[b] :] == -1))

    def test_bad_pool_size(self):
        with pytest.raises(ValueError, match="pool_size"):
            pool_voxel_indices(np.zeros((1, 1, 3), "int32"), np.array([1], "int32"), 0)
