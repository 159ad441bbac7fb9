import argparse
import json
import os

import numpy as np
import pytest

from keras_suite.cli import tf3d, tf3d_detection
from keras_suite.datasets.synthetic_scenes.scene_generator import generate_scene
from keras_suite.metrics import DetectionAP3D
from keras_suite.ops import non_max_suppression_3d
from keras_suite.zoo import ObjectDetection3D


def test_parser_task_detection():
    parser = argparse.ArgumentParser()
    tf3d.add_parser(parser.add_subparsers())
    args = parser.parse_args(["tf3d", "--task", "detection", "--epochs", "2"])
    assert (args.task, args.epochs, args.func) == ("detection", 2, tf3d.run)


def test_load_scenes_targets_are_the_boxes_of_the_voxels_objects():
    data = tf3d_detection.load_scenes(2, 11)
    for index in range(2):
        scene = generate_scene(11 + index, num_points=tf3d.NUM_POINTS)
        labels = data["voxel_instance_labels"][index]
        for instance in range(1, len(scene["box_classes"]) + 1):
            voxels = labels == instance
            assert voxels.any()
            box = data["boxes"][index][voxels]
            # Targets live in the voxel grid's frame: world centre minus the grid origin.
            centre = scene["box_centers"][instance - 1] - data["voxel_origin"][index]
            np.testing.assert_allclose(box[:, :3], np.tile(centre, (len(box), 1)), atol=1e-5)
            np.testing.assert_allclose(box[:, 6], scene["box_rotations"][instance - 1])
            assert np.all(data["classes"][index][voxels] == scene["box_classes"][instance - 1] - 1)
        assert np.all(data["classes"][index][labels == 0] == 0)
        assert np.all(data["classes"][index][labels == -1] == -1)
        truth = data["ground_truth"][index]
        np.testing.assert_allclose(truth["boxes"][:, 3:6], scene["box_sizes"])


@pytest.mark.slow
def test_evaluates_shipped_preset_and_renders(tmp_path):
    assert tf3d_detection.PRESET in ObjectDetection3D.presets
    model, results = tf3d_detection.train_and_evaluate(
        str(tmp_path), 0, 2, epochs=0, preset=tf3d_detection.PRESET
    )
    assert os.path.isfile(tmp_path / "detection_scene_0.png")
    with open(tmp_path / "detection_metrics.json") as f:
        assert json.load(f)["held_out_ap"] == results["held_out_ap"]
    # Independent recomputation: raw outputs -> scores -> class-wise NMS -> AP.
    data = tf3d_detection.load_scenes(2, tf3d.TEST_SEED_OFFSET)
    outputs = model(tf3d_detection.voxel_inputs(data), training=False)
    logits = outputs["class_logits"].numpy().astype("float64")
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    detections = []
    for index in range(2):
        n = data["num_valid_voxels"][index]
        boxes = outputs["boxes"].numpy()[index, :n].copy()
        boxes[:, :3] += data["voxel_origin"][index]
        scores = probabilities[index, :n, 1:].max(-1)
        classes = probabilities[index, :n, 1:].argmax(-1) + 1
        candidates = np.flatnonzero(scores >= 0.1)
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")][:1000]
        kept = []
        for class_id in range(1, 4):
            members = candidates[classes[candidates] == class_id]
            kept += list(members[non_max_suppression_3d(boxes[members], scores[members], 0.3)])
        kept = np.array(kept, "int64")[np.argsort(-scores[kept], kind="stable")][:100]
        detections.append({"boxes": boxes[kept], "scores": scores[kept], "classes": classes[kept]})
    metric = DetectionAP3D((0.25, 0.5))
    metric.update_state(data["ground_truth"], detections)
    expected = metric.result()
    for key in ("ap@0.25", "ap@0.5"):
        assert abs(expected[key] - results["held_out_ap"][key]) < 1e-6
