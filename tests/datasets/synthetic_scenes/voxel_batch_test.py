import numpy as np

from keras_suite.datasets.synthetic_scenes import generate_scene, scenes_to_voxels
from keras_suite.datasets.synthetic_scenes.voxel_batch import POINT_GEOMETRY_FEATURES


def test_point_geometry_matches_a_per_voxel_loop():
    scenes = [generate_scene(seed, num_points=800) for seed in (2, 5)]
    plain = scenes_to_voxels(scenes, voxel_size=0.3, max_voxels=500)
    data = scenes_to_voxels(scenes, voxel_size=0.3, max_voxels=500, point_geometry=True)
    features = data["voxel_features"]
    assert features.shape == (2, 500, 4 + len(POINT_GEOMETRY_FEATURES))
    np.testing.assert_array_equal(features[..., :4], plain["voxel_features"])
    for s in range(2):
        for v in range(data["num_valid_voxels"][s]):
            points = data["points"][s][data["point_to_voxel"][s] == v]
            centre = data["voxel_origin"][s] + (data["voxel_xyz_indices"][s, v] + 0.5) * 0.3
            offsets = (points - centre) / 0.3
            covariance = np.cov(offsets.T, bias=True) * 12
            expected = [*offsets.mean(0), *np.diag(covariance)]
            expected += [covariance[0, 1], covariance[0, 2], covariance[1, 2]]
            np.testing.assert_allclose(features[s, v, 4:], expected, atol=1e-5)
        assert np.abs(features[s, :, 4:7]).max() <= 0.5 + 1e-6
        np.testing.assert_array_equal(features[s, data["num_valid_voxels"][s] :], 0)
