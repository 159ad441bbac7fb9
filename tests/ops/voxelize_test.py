import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.ops import devoxelize, voxelize
from keras_suite.testing import TestCase


def brute_force_voxelize(points, features, num_valid, voxel_size):
    """Per scene: a dict from relative voxel index to the mean feature, and the origin."""
    scenes = []
    for b in range(points.shape[0]):
        grid = np.floor(points[b, : num_valid[b]] / voxel_size).astype("int64")
        origin = grid.min(axis=0) if len(grid) else np.zeros(3, "int64")
        groups = {}
        for i, cell in enumerate(grid - origin):
            groups.setdefault(tuple(cell), []).append(features[b, i])
        scenes.append(({k: np.mean(v, axis=0) for k, v in groups.items()}, origin))
    return scenes


class VoxelizeTest(TestCase):
    def test_matches_brute_force(self):
        rng = np.random.default_rng(0)
        points = rng.uniform(-1.0, 1.0, (3, 200, 3)).astype("float32")
        features = rng.normal(size=(3, 200, 4)).astype("float32")
        num_valid = np.array([200, 57, 0], "int32")
        voxels = voxelize(points, features, num_valid, 0.25, max_voxels=200)
        voxels = voxels._make(ops.convert_to_numpy(part) for part in voxels)
        expected = brute_force_voxelize(points, features, num_valid, 0.25)
        for b, (groups, origin) in enumerate(expected):
            count = int(voxels.num_valid_voxels[b])
            self.assertEqual(count, len(groups))
            xyz = voxels.voxel_xyz_indices[b, :count]
            self.assertEqual([tuple(v) for v in xyz], sorted(groups))
            for row, cell in enumerate(xyz):
                self.assertAllClose(voxels.voxel_features[b, row], groups[tuple(cell)], atol=1e-5)
            self.assertAllClose(voxels.voxel_origin[b], origin * 0.25)
            self.assertTrue(np.all(voxels.voxel_features[b, count:] == 0))
            point_to_voxel = voxels.point_to_voxel[b]
            self.assertTrue(np.all(point_to_voxel[num_valid[b] :] == -1))
            for i in range(num_valid[b]):
                cell = np.floor(points[b, i] / 0.25).astype("int64") - origin
                self.assertEqual(tuple(xyz[point_to_voxel[i]]), tuple(cell))

    def test_overflow_keeps_first_voxels_and_drops_the_rest(self):
        points = np.array([[[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0], [0.1, 0, 0]]], "float32")
        features = np.arange(4, dtype="float32").reshape(1, 4, 1)
        voxels = voxelize(points, features, np.array([4], "int32"), 0.5, max_voxels=2)
        self.assertAllEqual(voxels.num_valid_voxels, np.array([2]))
        self.assertAllEqual(voxels.point_to_voxel, np.array([[0, 1, -1, 0]]))
        self.assertAllClose(voxels.voxel_features[0, :, 0], np.array([1.5, 1.0]))

    def test_devoxelize_gathers_back(self):
        rng = np.random.default_rng(1)
        points = rng.uniform(0.0, 1.0, (2, 50, 3)).astype("float32")
        voxels = voxelize(points, points, np.array([50, 20], "int32"), 0.3, max_voxels=64)
        back = ops.convert_to_numpy(devoxelize(voxels.voxel_features, voxels.point_to_voxel))
        features = ops.convert_to_numpy(voxels.voxel_features)
        p2v = ops.convert_to_numpy(voxels.point_to_voxel)
        for b in range(2):
            for i in range(50):
                expected = features[b, p2v[b, i]] if p2v[b, i] >= 0 else 0.0
                self.assertAllClose(back[b, i], expected * np.ones(3))

    def test_runs_compiled(self):
        points = np.array([[[0.05, 0.0, 0.0], [0.07, 0.02, 0.0], [0.5, 0.5, 0.5]]], "float32")
        colours = np.array([[[1.0], [3.0], [5.0]]], "float32")
        count = np.array([3], "int32")

        def run(p, c, n):
            return tuple(voxelize(p, c, n, 0.1, 4))

        # Under jax.jit and tf.function; Keras runs torch eagerly.
        if keras.config.backend() == "jax":
            import jax

            run = jax.jit(run)
        elif keras.config.backend() == "tensorflow":
            import tensorflow as tf

            run = tf.function(run)
        args = [ops.convert_to_tensor(x) for x in (points, colours, count)]
        features, _, num_voxels, _, _ = run(*args)
        self.assertAllEqual(num_voxels, np.array([2]))
        self.assertAllClose(ops.convert_to_numpy(features)[0, :2, 0], np.array([2.0, 5.0]))

    def test_bad_inputs(self):
        points = np.zeros((1, 3, 3), "float32")
        features = np.zeros((1, 3, 1), "float32")
        nan_points = points.copy()
        nan_points[0, 1, 0] = np.nan
        with pytest.raises(ValueError, match="must be finite"):
            voxelize(nan_points, features, np.array([3], "int32"), 0.1, 4)
        voxels = voxelize(nan_points, features, np.array([1], "int32"), 0.1, 4)
        self.assertAllEqual(voxels.num_valid_voxels, np.array([1]))
        with pytest.raises(ValueError, match="`points` must be a float tensor"):
            voxelize(np.zeros((1, 3, 2), "float32"), features, np.array([3], "int32"), 0.1, 4)
        with pytest.raises(ValueError, match="num_valid_points"):
            voxelize(points, features, np.array([4], "int32"), 0.1, 4)
        with pytest.raises(ValueError, match="voxel_size"):
            voxelize(points, features, np.array([3], "int32"), -0.1, 4)
        with pytest.raises(ValueError, match="max_voxels"):
            voxelize(points, features, np.array([3], "int32"), 0.1, 0)
        with pytest.raises(ValueError, match="point_to_voxel"):
            devoxelize(features, np.array([[0, 7]], "int32"))
