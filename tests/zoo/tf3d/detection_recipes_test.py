import numpy as np
import pytest

from keras_suite.datasets.synthetic_scenes import (
    OBJECT_CLASSES,
    TEST_SEED_OFFSET,
    VOXEL_SIZE,
    scene_voxels,
)
from keras_suite.zoo import ObjectDetection3D, SparseUNet3D
from keras_suite.zoo.tf3d import detection_recipes

# The recipes read scenes through voxel_transform, a tf.data map.
pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def data():
    return scene_voxels(range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + 2))


class TruthBoxes:
    """Stands in for a detector: predicts the true boxes, less those in `dropped`."""

    def __init__(self, data, dropped=()):
        self.data, self.dropped, self.start = data, dropped, 0

    def predict_boxes(self, inputs, voxel_origin):
        scenes = range(self.start, self.start + len(voxel_origin))
        self.start = scenes.stop
        detections = []
        for scene in scenes:
            boxes = range(len(self.data["boxes"][scene]))
            keep = [k for k in boxes if (scene, k) not in self.dropped]
            classes = [OBJECT_CLASSES.index(c) + 1 for c in self.data["box_classes"][scene]]
            detections.append(
                {
                    "boxes": self.data["boxes"][scene][keep],
                    "scores": np.ones(len(keep)),
                    "classes": np.array(classes, "int64")[keep],
                }
            )
        return detections


def test_targets_give_each_object_voxel_its_box_in_the_grid_frame(data):
    targets = detection_recipes.detection_targets(data)
    for scene in range(2):
        labels = data["voxel_instance_labels"][scene]
        for v in (*np.flatnonzero(labels > 0)[::97], *np.flatnonzero(labels <= 0)[::500]):
            k = labels[v]
            if k > 0:
                box = data["boxes"][scene][k - 1].copy()
                box[:3] -= data["voxel_origin"][scene]
                np.testing.assert_allclose(targets["boxes"][scene, v], box, atol=1e-5)
                expected = OBJECT_CLASSES.index(data["box_classes"][scene][k - 1]) + 1
                assert targets["classes"][scene, v] == expected
            else:
                assert targets["classes"][scene, v] == k  # 0: background, -1: padding
    assert set(np.unique(targets["classes"])) <= {-1, 0, 1, 2, 3}


def test_evaluation_scores_true_boxes_one_and_a_missed_box_by_hand(data):
    calls = []
    found = detection_recipes.evaluate_object_detection(
        TruthBoxes(data), data, lambda *a: calls.append(a)
    )
    assert calls == [(1, 1)]
    assert found["ap"] == pytest.approx({"ap@0.25": 1.0, "ap@0.5": 1.0})
    # Missing one of the n boxes of a class: recall (n - 1) / n at precision 1 for that class.
    classes = np.concatenate(data["box_classes"])
    missed = data["box_classes"][0][0]
    per_class = [
        (np.sum(classes == c) - 1) / np.sum(classes == c) if c == missed else 1.0
        for c in np.unique(classes)
    ]
    found = detection_recipes.evaluate_object_detection(
        TruthBoxes(data, dropped={(0, 0)}), data
    )
    assert found["ap"]["ap@0.25"] == pytest.approx(np.mean(per_class))
    assert found["ap"]["ap@0.5"] == pytest.approx(np.mean(per_class))


def test_training_lowers_the_rate_checkpoints_and_resumes(tmp_path):
    def tiny():
        return ObjectDetection3D(SparseUNet3D([[8]], [8], [[8]]), 3, VOXEL_SIZE)

    calls = []
    results = detection_recipes.train_object_detection(
        tiny(),
        2,
        scenes_per_epoch=2,
        checkpoint_dir=str(tmp_path),
        progress=lambda done, total, **v: calls.append((done, total)),
    )
    assert calls == [(1, 2), (2, 2)]
    assert (results["first_epoch"], results["epochs_run"]) == (0, 2)
    assert all(np.isfinite(v) for v in results["final_training_losses"].values())
    model = tiny()
    again = detection_recipes.train_object_detection(
        model, 3, scenes_per_epoch=2, checkpoint_dir=str(tmp_path), resume=True
    )
    assert (again["first_epoch"], again["epochs_run"]) == (2, 1)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3 / 3)
    assert int(model.optimizer.iterations.numpy()) == 3
