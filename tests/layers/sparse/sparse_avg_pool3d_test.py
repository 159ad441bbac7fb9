import numpy as np
from keras import ops

from keras_suite.layers import SparseAvgPool3D
from keras_suite.testing import TestCase


def random_voxels(seed):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.choice(512, 50, replace=False) for _ in range(2)])
    xyz = np.stack(np.unravel_index(xyz, (8, 8, 8)), -1).astype("int32")
    features = rng.normal(size=(2, 50, 3)).astype("float32")
    return features, xyz, np.array([50, 21], "int32")


class SparseAvgPool3DTest(TestCase):
    def test_layer_basics(self):
        features, xyz, num_valid = random_voxels(0)
        self.run_layer_test(
            SparseAvgPool3D,
            init_kwargs={"pool_size": 2},
            input_data=(features, xyz, num_valid),
            expected_output_shape=((2, 50, 3), (2, 50, 3), (2,), (2, 50)),
            expected_num_trainable_weights=0,
            atol=1e-5,
        )

    def test_matches_brute_force(self):
        features, xyz, num_valid = random_voxels(1)
        for pool_size in (2, 4):
            outputs = SparseAvgPool3D(pool_size)(features, xyz, num_valid)
            pooled, pooled_xyz, count, _ = [ops.convert_to_numpy(x) for x in outputs]
            for b in range(2):
                groups = {}
                for i in range(num_valid[b]):
                    groups.setdefault(tuple(xyz[b, i] // pool_size), []).append(features[b, i])
                self.assertEqual(int(count[b]), len(groups))
                for row, cell in enumerate(sorted(groups)):
                    self.assertEqual(tuple(pooled_xyz[b, row]), cell)
                    self.assertAllClose(pooled[b, row], np.mean(groups[cell], axis=0), atol=1e-6)
                self.assertTrue(np.all(pooled[b, len(groups) :] == 0))
