import collections

import numpy as np

from keras_suite.datasets.synthetic_scenes import generate_scene, scene_voxels

VOXEL = 0.3


def mode(values):
    """The most frequent value, the smallest on ties."""
    counts = collections.Counter(values.tolist())
    return min(counts, key=lambda v: (-counts[v], v))


def test_voxels_take_the_most_frequent_class_and_instance_of_their_points():
    data = scene_voxels([3, 4], num_points=1500, voxel_size=VOXEL, max_voxels=1000)
    for row, seed in enumerate((3, 4)):
        scene = generate_scene(seed, num_points=1500)
        cells = np.floor(scene["points"] / VOXEL).astype(int)
        n = data["num_valid_voxels"][row]
        occupied = {tuple(c) for c in cells}
        assert n == len(occupied)
        centres = data["voxel_origin"][row] + (data["voxel_xyz_indices"][row, :n] + 0.5) * VOXEL
        for v in range(n):
            inside = np.all(cells == np.floor(centres[v] / VOXEL).astype(int), axis=1)
            assert inside.any()
            semantic = data["voxel_semantic_labels"][row, v]
            assert semantic == mode(scene["semantic_labels"][inside])
            assert data["voxel_instance_labels"][row, v] == mode(scene["instance_labels"][inside])
            np.testing.assert_allclose(
                data["voxel_features"][row, v, :3], scene["colors"][inside].mean(0), atol=1e-5
            )
        assert (data["voxel_semantic_labels"][row, n:] == -1).all()
        assert (data["voxel_instance_labels"][row, n:] == -1).all()
        boxes = np.concatenate(
            [scene["box_centers"], scene["box_sizes"], scene["box_rotations"][:, None]], -1
        )
        np.testing.assert_allclose(data["boxes"][row], boxes)
        np.testing.assert_array_equal(data["box_classes"][row], scene["box_classes"])


def test_augmented_scenes_drop_their_boxes_and_follow_the_generator():
    sizes = {"num_points": 1000, "voxel_size": VOXEL, "max_voxels": 300}
    first = scene_voxels([5], augment_rng=np.random.default_rng(0), **sizes)
    again = scene_voxels([5], augment_rng=np.random.default_rng(0), **sizes)
    plain = scene_voxels([5], **sizes)
    assert "boxes" not in first and "boxes" in plain
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert first["voxel_features"].shape == (1, 300, 4)
    assert not np.array_equal(first["voxel_xyz_indices"], plain["voxel_xyz_indices"])
