"""Tests of the voxel transform against a brute-force NumPy voxelization of the same points."""

import collections
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.datasets.voxel_transform import (
    SCANNET20_CLASS_IDS,
    SCANNET_IGNORE_LABELS,
    check_manual_dir,
    voxel_transform,
)

VOXEL = 0.5


def reference(points, features, semantic, instance, table):
    """Per occupied voxel (keyed by its absolute grid index): mean features, label modes."""
    grid = np.floor(points / VOXEL).astype(int)
    groups = collections.defaultdict(list)
    for i, cell in enumerate(map(tuple, grid)):
        groups[cell].append(i)
    result = {}
    for cell, members in groups.items():
        classes = [table.get(int(semantic[i]), -1) for i in members]
        labelled = [i for i, c in zip(members, classes) if c >= 0]

        def mode(values):
            counts = collections.Counter(values)
            return min(v for v in counts if counts[v] == max(counts.values()))

        result[cell] = (
            features[members].mean(axis=0),
            mode([table[int(semantic[i])] for i in labelled]) if labelled else 0,
            mode([int(instance[i]) for i in labelled]) if labelled else 0,
            1.0 if labelled else 0.0,
        )
    return result


def scene(seed=0, num_points=300):
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.5, (num_points, 3)).astype(np.float32)
    normals = rng.normal(size=(num_points, 3)).astype(np.float32)
    colors = rng.integers(0, 256, (num_points, 4)).astype(np.uint8)
    semantic = rng.choice([0, 1, 2, 5, 13, 39, 40], num_points).astype(np.int64)
    instance = rng.integers(0, 4, num_points).astype(np.int64)
    return {
        "scene_name": tf.constant("scene0000_00"),
        "mesh": {
            "vertices": {
                "positions": tf.constant(points),
                "normals": tf.constant(normals),
                "colors": tf.constant(colors),
                "semantic_labels": tf.constant(semantic[:, None]),
                "instance_labels": tf.constant(instance[:, None]),
            }
        },
    }


def check(outputs, expected, max_voxels, num_features):
    inputs, targets = (tf.nest.map_structure(np.asarray, part) for part in outputs)
    count = int(inputs["num_valid_voxels"])
    assert count == len(expected)
    origin_cell = np.round(inputs["voxel_origin"] / VOXEL).astype(int)
    assert inputs["voxel_features"].shape == (max_voxels, num_features)
    for row in range(count):
        cell = tuple(inputs["voxel_xyz_indices"][row] + origin_cell)
        features, semantic, instance, weight = expected[cell]
        np.testing.assert_allclose(inputs["voxel_features"][row], features, atol=1e-5)
        assert targets["voxel_semantic_labels"][row] == semantic, cell
        assert targets["voxel_instance_labels"][row] == instance, cell
        assert targets["voxel_loss_weights"][row] == weight, cell
    assert not targets["voxel_loss_weights"][count:].any()


def test_scannet_tf3d_labels_inside_tf_data():
    example = scene()
    vertices = example["mesh"]["vertices"]
    table = {i: i for i in range(41) if i not in SCANNET_IGNORE_LABELS}
    expected = reference(
        vertices["positions"].numpy(),
        vertices["normals"].numpy(),
        vertices["semantic_labels"].numpy()[:, 0],
        vertices["instance_labels"].numpy()[:, 0],
        table,
    )
    transform = voxel_transform("scannet", voxel_size=VOXEL, max_voxels=200)
    assert transform.num_classes == 41
    dataset = tf.data.Dataset.from_tensors(example).map(transform)
    check(next(iter(dataset)), expected, 200, 3)


def test_scannet20_remap_with_colors():
    example = scene(seed=1)
    vertices = example["mesh"]["vertices"]
    table = {raw: i for i, raw in enumerate(SCANNET20_CLASS_IDS)}
    features = np.concatenate(
        [vertices["normals"].numpy(), vertices["colors"].numpy() / 255.0], axis=-1
    )
    expected = reference(
        vertices["positions"].numpy(),
        features,
        vertices["semantic_labels"].numpy()[:, 0],
        vertices["instance_labels"].numpy()[:, 0],
        table,
    )
    transform = voxel_transform(
        "rio",
        voxel_size=VOXEL,
        max_voxels=200,
        feature_keys=("mesh/vertices/normals", "mesh/vertices/colors"),
        class_ids=SCANNET20_CLASS_IDS,
    )
    assert transform.num_classes == 20
    check(transform(example), expected, 200, 7)


def test_waymo_points_take_the_class_of_their_box():
    # Box 1: a vehicle at (10, 0, 1), 4 x 2 x 2, turned 90 degrees (long along y).
    # Box 2: a pedestrian at (0, 5, 1), 1 x 1 x 2.
    points = np.array(
        [
            [10.25, 1.75, 1.25],  # inside box 1 (|dy| = 1.75 <= 2, |dx| = 0.25 <= 1)
            [10.25, 1.9, 1.1],  # same voxel, inside box 1
            [11.75, 0.25, 1.25],  # outside box 1 (|dx| = 1.75 > 1 across the turned box)
            [0.25, 5.25, 0.25],  # inside box 2
            [30.0, 30.0, 0.0],  # in no box
        ],
        np.float32,
    )
    example = {
        "points": {
            "positions": tf.constant(points),
            "intensity": tf.constant([[1.0], [3.0], [5.0], [7.0], [9.0]]),
            "elongation": tf.constant([[0.0], [2.0], [0.0], [0.0], [0.0]]),
        },
        "objects": {
            "center": tf.constant([[10.0, 0.0, 1.0], [0.0, 5.0, 1.0]]),
            "size": tf.constant([[4.0, 2.0, 2.0], [1.0, 1.0, 2.0]]),
            "heading": tf.constant([np.pi / 2, 0.0], tf.float32),
            "category": tf.constant([1, 2], tf.int64),
        },
    }
    inputs, targets = voxel_transform("waymo_open_lidar", voxel_size=VOXEL, max_voxels=8)(example)
    assert int(inputs["num_valid_voxels"]) == 4
    origin = np.round(inputs["voxel_origin"].numpy() / VOXEL).astype(int)
    rows = {
        tuple(inputs["voxel_xyz_indices"][r].numpy() + origin): r
        for r in range(int(inputs["num_valid_voxels"]))
    }
    expected = {  # cell: (features, class, instance)
        (20, 3, 2): ([2.0, 1.0], 1, 1),
        (23, 0, 2): ([5.0, 0.0], 0, 0),
        (0, 10, 0): ([7.0, 0.0], 2, 2),
        (60, 60, 0): ([9.0, 0.0], 0, 0),
    }
    assert set(rows) == set(expected)
    for cell, (features, label, instance) in expected.items():
        row = rows[cell]
        np.testing.assert_allclose(inputs["voxel_features"][row], features)
        assert targets["voxel_semantic_labels"][row] == label
        assert targets["voxel_instance_labels"][row] == instance
        assert targets["voxel_loss_weights"][row] == 1
    np.testing.assert_allclose(targets["voxel_box_centers"][rows[(20, 3, 2)]], [10, 0, 1])
    np.testing.assert_allclose(targets["voxel_box_sizes"][rows[(0, 10, 0)]], [1, 1, 2])
    np.testing.assert_allclose(targets["voxel_box_headings"][rows[(20, 3, 2)]], np.pi / 2)
    np.testing.assert_array_equal(targets["voxel_box_sizes"][rows[(60, 60, 0)]], [0, 0, 0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="`dataset` must be one of .*Received: dataset='kitti'"):
        voxel_transform("kitti", voxel_size=0.1, max_voxels=10)
    with pytest.raises(ValueError, match="Received: max_voxels=0"):
        voxel_transform("scannet", voxel_size=0.1, max_voxels=0)
    with pytest.raises(ValueError, match="needs .*points_key"):
        voxel_transform(None, voxel_size=0.1, max_voxels=10)
    with pytest.raises(ValueError, match="distinct non-negative"):
        voxel_transform("scannet", voxel_size=0.1, max_voxels=10, class_ids=(1, 1))
    transform = voxel_transform("scannet", voxel_size=0.1, max_voxels=10)
    with pytest.raises(KeyError, match="no feature `mesh/vertices/positions`"):
        transform({"points": tf.zeros((3, 3))})


def test_semantic_output_format_is_fit_ready():
    example = scene(seed=2)
    full_inputs, targets = voxel_transform("scannet", voxel_size=VOXEL, max_voxels=200)(example)
    inputs, labels = voxel_transform(
        "scannet", voxel_size=VOXEL, max_voxels=200, output_format="semantic"
    )(example)
    assert sorted(inputs) == ["num_valid_voxels", "voxel_features", "voxel_xyz_indices"]
    for key in inputs:
        np.testing.assert_array_equal(inputs[key], full_inputs[key])
    expected = np.where(targets["voxel_loss_weights"] > 0, targets["voxel_semantic_labels"], -1)
    np.testing.assert_array_equal(labels, expected)
    with pytest.raises(ValueError, match="Received: output_format='boxes'"):
        voxel_transform("scannet", voxel_size=VOXEL, max_voxels=10, output_format="boxes")


def test_synthetic_scenes_point_geometry_matches_a_numpy_reference():
    from keras_suite.datasets.synthetic_scenes import generate_scene

    scene = generate_scene(0, num_points=800)
    keys = ("points", "colors", "semantic_labels", "instance_labels")
    transform = voxel_transform("synthetic_scenes", 0.3, 300, point_geometry=True)
    inputs, _ = transform({k: tf.constant(scene[k]) for k in keys})
    features = inputs["voxel_features"].numpy()
    cells = np.floor(scene["points"] / 0.3).astype(int)
    origin = inputs["voxel_origin"].numpy()
    for row in range(0, int(inputs["num_valid_voxels"]), 17):
        index = inputs["voxel_xyz_indices"][row].numpy()
        centre = origin + (index + 0.5) * 0.3
        inside = np.all(cells == np.floor((centre) / 0.3).astype(int), axis=1)
        points = scene["points"][inside].astype("float64")
        np.testing.assert_allclose(features[row, :3], scene["colors"][inside].mean(0), atol=1e-5)
        np.testing.assert_allclose(features[row, 3], points[:, 2].mean(), atol=1e-5)
        offsets = (points - centre) / 0.3
        np.testing.assert_allclose(features[row, 4:7], offsets.mean(0), atol=1e-4)
        covariance = np.cov(offsets.T, bias=True) * 12
        expected = [covariance[a, b] for a, b in ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))]
        np.testing.assert_allclose(features[row, 7:], expected, atol=1e-3)


@pytest.mark.parametrize("dataset, entry", [("scannet", "scans"), ("rio", "3RScan.json")])
def test_manual_dir_check_names_the_flag_and_the_value(tmp_path, dataset, entry):
    for manual_dir in (None, str(tmp_path / "nonexistent"), str(tmp_path)):
        with pytest.raises(FileNotFoundError) as error:
            check_manual_dir(dataset, manual_dir)
        message = str(error.value)
        assert "\n" not in message and message.startswith("`--manual-dir` must be an existing")
        assert message.endswith(f"Received: {manual_dir}")
    (tmp_path / entry).mkdir()
    check_manual_dir(dataset, str(tmp_path))
    assert os.listdir(tmp_path) == [entry]
    with pytest.raises(ValueError, match="`dataset` must be one of .*Received: 'kitti'"):
        check_manual_dir("kitti", str(tmp_path))
