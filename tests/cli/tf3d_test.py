import argparse
import json
import os

import numpy as np
import pytest

from keras_suite.cli import tf3d
from keras_suite.metrics import MeanIoU3D
from keras_suite.zoo import SemanticSegmentation3D


def test_parser():
    parser = argparse.ArgumentParser()
    tf3d.add_parser(parser.add_subparsers())
    args = parser.parse_args(["tf3d", "--epochs", "2", "--train-scenes", "3"])
    assert (args.epochs, args.train_scenes, args.func) == (2, 3, tf3d.run)


@pytest.mark.slow
def test_evaluates_shipped_preset_and_renders(tmp_path):
    assert "synthetic_scenes_semantic" in SemanticSegmentation3D.presets
    results = tf3d.train_and_evaluate(
        str(tmp_path), 0, 2, epochs=0, preset="synthetic_scenes_semantic"
    )
    assert os.path.isfile(tmp_path / "semantic_scene_0.png")
    with open(tmp_path / "metrics.json") as f:
        assert json.load(f)["held_out_point_miou"] == results["held_out_point_miou"]
    # Independent recomputation of the point mIoU from the model's voxel predictions.
    model = SemanticSegmentation3D.from_preset("synthetic_scenes_semantic")
    assert tf3d.uses_point_geometry(model)
    data = tf3d.load_scenes(2, tf3d.TEST_SEED_OFFSET, point_geometry=True)
    logits = model(tf3d.voxel_inputs(data)).numpy()
    p2v = data["point_to_voxel"]
    points = np.where(p2v >= 0, np.take_along_axis(logits.argmax(-1), np.maximum(p2v, 0), 1), -1)
    metric = MeanIoU3D(5)
    metric.update_state(data["semantic_labels"], points)
    assert abs(float(metric.result()) - results["held_out_point_miou"]) < 1e-6


def test_augment_scene_is_a_horizontal_similarity():
    from keras_suite.datasets.synthetic_scenes import generate_scene

    scene = generate_scene(3, num_points=500)
    augmented = tf3d.augment_scene(scene, np.random.default_rng(1))
    again = tf3d.augment_scene(scene, np.random.default_rng(1))
    np.testing.assert_array_equal(augmented["points"], again["points"])
    for key in ("colors", "semantic_labels", "instance_labels"):
        np.testing.assert_array_equal(augmented[key], scene[key])
    np.testing.assert_allclose(augmented["points"][:, 2], scene["points"][:, 2])
    before = np.linalg.norm(scene["points"][:250, :2] - scene["points"][250:, :2], axis=-1)
    after = np.linalg.norm(augmented["points"][:250, :2] - augmented["points"][250:, :2], axis=-1)
    ratio = after / before
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)
    assert 0.9 <= ratio[0] <= 1.1
    centre = (scene["points"].min(0) + scene["points"].max(0)) / 2
    moved = np.abs(augmented["points"][:, :2] - scene["points"][:, :2]).max()
    assert moved > 0.05
    # The room's centre is the fixed point: distances to it scale by the same factor.
    np.testing.assert_allclose(
        np.linalg.norm(augmented["points"][:, :2] - centre[:2], axis=-1),
        ratio[0] * np.linalg.norm(scene["points"][:, :2] - centre[:2], axis=-1),
        rtol=1e-4,
        atol=1e-5,
    )
    parser = argparse.ArgumentParser()
    tf3d.add_parser(parser.add_subparsers())
    assert parser.parse_args(["tf3d", "--fresh-scenes"]).fresh_scenes
    assert not parser.parse_args(["tf3d"]).fresh_scenes


def test_add_point_geometry_inputs_keeps_the_predictions():
    from keras_suite.zoo import SparseUNet3D

    model = SemanticSegmentation3D(SparseUNet3D([[8]], [8], [[8]]), num_classes=5)
    plain = tf3d.load_scenes(2, tf3d.TEST_SEED_OFFSET)
    logits = model(tf3d.voxel_inputs(plain)).numpy()
    assert not tf3d.uses_point_geometry(model)
    wide = tf3d.add_point_geometry_inputs(model)
    assert tf3d.uses_point_geometry(wide)
    data = tf3d.load_scenes(2, tf3d.TEST_SEED_OFFSET, point_geometry=True)
    assert data["voxel_features"].shape[-1] == tf3d.POINT_GEOMETRY_FEATURES
    np.testing.assert_allclose(wide(tf3d.voxel_inputs(data)).numpy(), logits, atol=1e-5)
    # The new inputs are live: once their weights move, the logits do too.
    kernel = wide.backbone.encoder_blocks[0][0][0].kernel
    values = kernel.numpy()
    np.testing.assert_array_equal(values[..., 4:, :], 0)
    values[..., 4:, :] = 0.1
    kernel.assign(values)
    assert np.abs(wide(tf3d.voxel_inputs(data)).numpy() - logits).max() > 1e-3
