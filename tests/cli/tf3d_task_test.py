import math
import types

import keras
import numpy as np
import pytest

from keras_suite.cli import tf3d, tf3d_detection, tf3d_instance, tf3d_task


def test_task_preset_metadata_keeps_each_tasks_entries():
    instance = tf3d_instance.preset_metadata(
        {
            "held_out_instance_ap": {"ap": 0.1, "ap_50": 0.2, "ap_25": 0.3},
            "held_out_instance_ap_per_class": {"box": {"ap_50": 0.2, "ap_25": 0.3}},
            "point_geometry": False,
        },
        4,
    )
    detection = tf3d_detection.preset_metadata(
        {
            "held_out_ap": {"ap@0.25": 0.8, "ap@0.5": 0.4},
            "held_out_ap_per_class": {"x": 1},
            "point_geometry": True,
        },
        16,
    )
    common = {
        "training_data": "synthetic_scenes, fresh scenes every epoch (seeds epoch * 10000 + i), "
        "12000 points, voxel_size 0.15 m",
        "voxel_size": 0.15,
        "max_voxels": 5000,
        "voxel_features": "mean colour (r, g, b) and height z in metres",
    }
    assert instance == {
        **common,
        "held_out_data": "synthetic_scenes seeds 1000000..1000003",
        "metrics": {
            "instance_ap_points_held_out": 0.1,
            "instance_ap_50_points_held_out": 0.2,
            "instance_ap_25_points_held_out": 0.3,
        },
        "metrics_per_class_held_out": {"box": {"ap_50": 0.2, "ap_25": 0.3}},
        "class_names": ["floor", "wall", "box", "cylinder", "l_shape"],
        "thing_classes": [2, 3, 4],
    }
    assert detection == {
        **common,
        "voxel_features": "mean colour (r, g, b) and height z in metres, then the points' mean "
        "offset from the voxel centre (3) and covariance (6, times 12), in voxel edges "
        "(synthetic_scenes.voxel_batch.POINT_GEOMETRY_FEATURES)",
        "held_out_data": "synthetic_scenes seeds 1000000..1000015",
        "metrics": {
            "detection_ap@0.25_held_out": 0.8,
            "detection_ap@0.5_held_out": 0.4,
            "per_class": {"x": 1},
        },
        "class_names": ["background", "box", "cylinder", "l_shape"],
        "box_packing": "(cx, cy, cz, sx, sy, sz, yaw) in metres, voxel-grid frame",
    }


def test_fit_fresh_epochs_drops_the_learning_rate_for_the_last_third():
    model = types.SimpleNamespace(
        optimizer=types.SimpleNamespace(learning_rate=keras.Variable(0.3))
    )
    seen = []

    def fit_epoch(epoch):
        seen.append((epoch, float(model.optimizer.learning_rate.numpy())))
        return types.SimpleNamespace(history={"loss": [1.0, 1.0 / (epoch + 1)]})

    lines = []
    losses = tf3d_task.fit_fresh_epochs(model, 6, 0.3, fit_epoch, log=lines.append)
    np.testing.assert_allclose([lr for _, lr in seen], [0.3] * 4 + [0.1] * 2, rtol=1e-6)
    assert [e for e, _ in seen] == list(range(6))
    assert losses == [{"loss": round(1.0 / (e + 1), 4)} for e in range(6)]
    assert lines[-1] == "epoch 6/6: {'loss': 0.1667}"


@pytest.mark.slow
def test_train_fresh_cosine_decay_and_best_validation_weights():
    from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D

    model = SemanticSegmentation3D(SparseUNet3D([[8]], [8], [[8]]), num_classes=5)
    lines = []
    results = tf3d.train_fresh(
        model, 3, 4, 3e-3, validate_every=2, log=lines.append, validation_scenes=2
    )
    assert [line.startswith(f"epoch {e}/3") for e, line in enumerate(lines, 1)] == [True] * 3
    assert "validation" not in lines[0] and "validation" in lines[1] and "validation" in lines[2]
    # 3 epochs of one step each: the cosine has reached its floor, 1% of the rate.
    steps = int(model.optimizer.iterations.numpy())
    expected = 3e-3 * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(steps, 3) / 3)))
    assert steps == 3
    np.testing.assert_allclose(float(model.optimizer.learning_rate), expected, rtol=1e-5)
    # The model ends with the weights of its best validation check: recomputing gives it.
    validation = tf3d.load_scenes(2, tf3d.VALIDATION_SEED_OFFSET)
    miou, _ = tf3d.evaluate_points(model, validation)
    assert results["best_validation_epoch"] in (2, 3)
    assert abs(miou - results["best_validation_point_miou"]) < 1e-6
