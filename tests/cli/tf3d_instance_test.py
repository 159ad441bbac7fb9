import argparse
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.cli import tf3d, tf3d_instance
from keras_suite.metrics import InstanceAP3D
from keras_suite.ops import group_instances
from keras_suite.zoo import InstanceSegmentation3D


def test_parser_task_instance():
    parser = argparse.ArgumentParser()
    tf3d.add_parser(parser.add_subparsers())
    args = parser.parse_args(["tf3d", "--task", "instance", "--epochs", "2"])
    assert (args.task, args.epochs, args.func) == ("instance", 2, tf3d.run)
    assert parser.parse_args(["tf3d"]).task == "semantic"
    args = parser.parse_args(["tf3d", "--task", "instance", "--dataset", "scannet"])
    with pytest.raises(ValueError, match="generated scenes only"):
        tf3d.run(args)


def test_load_scenes_marks_floor_and_walls_as_no_instance():
    data = tf3d_instance.load_scenes(1, 7)
    points = data["num_valid_points"][0]
    stuff = data["semantic_labels"][0, :points] < 2
    assert np.all(data["instance_labels"][0, :points][stuff] == -1)
    assert np.all(data["instance_labels"][0, :points][~stuff] >= 1)
    voxels = data["num_valid_voxels"][0]
    assert np.all(data["voxel_instance_labels"][0, voxels:] == -1)


@pytest.mark.slow
def test_evaluates_shipped_preset_and_renders(tmp_path):
    assert tf3d_instance.PRESET in InstanceSegmentation3D.presets
    model, results = tf3d_instance.train_and_evaluate(
        str(tmp_path), 0, 2, epochs=0, preset=tf3d_instance.PRESET
    )
    assert os.path.isfile(tmp_path / "instance_scene_0.png")
    with open(tmp_path / "instance_metrics.json") as f:
        assert json.load(f)["held_out_instance_ap"] == results["held_out_instance_ap"]
    # Independent recomputation: raw outputs -> grouping -> points -> AP.
    data = tf3d_instance.load_scenes(2, tf3d.TEST_SEED_OFFSET)
    outputs = model(tf3d_instance.voxel_inputs(data), training=False)
    found = group_instances(
        outputs["embeddings"],
        tf.nn.softmax(outputs["semantic_logits"]),
        data["num_valid_voxels"],
        model.thing_classes,
        model.grouping_radius,
        model.min_score,
        model.min_instance_size,
        model.max_instances,
    )
    p2v = data["point_to_voxel"]
    ids = np.take_along_axis(found.instance_ids.numpy(), np.maximum(p2v, 0), 1)
    metric = InstanceAP3D(5, class_ids=[2, 3, 4])
    metric.update_state(
        data["instance_labels"],
        data["semantic_labels"],
        np.where(p2v >= 0, ids, -1),
        found.instance_classes,
        found.instance_scores,
    )
    for key, value in metric.result().items():
        assert abs(value - results["held_out_instance_ap"][key]) < 1e-6
    # The shipped preset groups real instances on held-out scenes.
    assert results["held_out_instance_ap"]["ap_25"] > 0.3


@pytest.mark.slow
def test_train_on_fresh_augmented_scenes_and_preset_metadata(tmp_path):
    from keras_suite.zoo import SparseUNet3D

    model = InstanceSegmentation3D(
        SparseUNet3D([[8]], [8], [[8]]), num_classes=5, embedding_dim=4, thing_classes=[2, 3, 4]
    )
    lines = []
    losses = tf3d_instance.train(model, 1, 2, augment=True, log=lines.append, first_seed=3)
    assert len(losses) == 1 and len(lines) == 1
    assert set(losses[0]) == {"loss", "semantic_logits_loss", "embeddings_loss"}
    assert all(np.isfinite(v) for v in losses[0].values())
    results = {
        "held_out_instance_ap": {"ap": 0.1, "ap_50": 0.2, "ap_25": 0.3},
        "held_out_instance_ap_per_class": {"box": {"ap_50": 0.2, "ap_25": 0.3}},
        "point_geometry": False,
    }
    metadata = tf3d_instance.preset_metadata(results, 4)
    assert metadata["metrics"]["instance_ap_50_points_held_out"] == 0.2
    assert metadata["held_out_data"].endswith("1000003")
    model.save_to_preset(tmp_path, metadata=metadata)
    assert InstanceSegmentation3D.from_preset(str(tmp_path)).thing_classes == [2, 3, 4]
