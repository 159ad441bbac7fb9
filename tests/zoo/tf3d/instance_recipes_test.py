import numpy as np
import pytest

from keras_suite.datasets.synthetic_scenes import OBJECT_CLASSES, TEST_SEED_OFFSET, scene_voxels
from keras_suite.zoo import InstanceSegmentation3D, SparseUNet3D
from keras_suite.zoo.tf3d import instance_recipes

# The recipes read scenes through voxel_transform, a tf.data map.
pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def data():
    return scene_voxels(range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + 2))


class TruthInstances:
    """Stands in for a model: predicts the true instances, less those in `dropped`."""

    def __init__(self, data, dropped=()):
        self.data, self.dropped, self.start = data, dropped, 0

    def predict_instances(self, inputs):
        rows = slice(self.start, self.start + len(inputs["num_valid_voxels"]))
        self.start = rows.stop
        truth = self.data["voxel_instance_labels"][rows]
        ids = np.full(truth.shape, -1, "int32")
        classes = np.zeros((truth.shape[0], 32), "int32")
        for scene, labels in enumerate(truth):
            for k in np.unique(labels[labels > 0]):
                if (rows.start + scene, k) not in self.dropped:
                    ids[scene][labels == k] = k - 1
                    classes[scene, k - 1] = self.data["box_classes"][rows.start + scene][k - 1]
        return ids, classes, np.ones(classes.shape, "float32")


def objects_per_class(data):
    counts = {c: 0 for c in OBJECT_CLASSES}
    for labels, classes in zip(data["voxel_instance_labels"], data["box_classes"]):
        for k in np.unique(labels[labels > 0]):
            counts[int(classes[k - 1])] += 1
    return counts


def test_instance_targets_mark_floor_walls_and_padding_minus_one():
    data = {
        "voxel_semantic_labels": np.array([[0, 2, 3, -1]]),
        "voxel_instance_labels": np.array([[0, 1, 2, -1]]),
    }
    targets = instance_recipes.instance_targets(data)
    np.testing.assert_array_equal(targets["embeddings"], [[-1, 1, 2, -1]])
    np.testing.assert_array_equal(targets["semantic_logits"], [[0, 2, 3, -1]])


def test_evaluation_scores_true_instances_one_and_a_missed_object_by_hand(data):
    calls = []
    found = instance_recipes.evaluate_instance_segmentation(
        TruthInstances(data), data, lambda *a: calls.append(a)
    )
    assert calls == [(1, 1)]
    assert found["ap"] == pytest.approx({"ap": 1.0, "ap_50": 1.0, "ap_25": 1.0})
    # Missing one of the n objects of a class: recall (n - 1) / n at precision 1 for that class.
    counts = objects_per_class(data)
    labels = data["voxel_instance_labels"][0]
    k = int(labels[labels > 0][0])
    missed = int(data["box_classes"][0][k - 1])
    per_class = [
        (n - 1) / n if c == missed else 1.0 for c, n in counts.items() if n > 0
    ]
    found = instance_recipes.evaluate_instance_segmentation(
        TruthInstances(data, dropped={(0, k)}), data
    )
    assert found["ap"]["ap_50"] == pytest.approx(np.mean(per_class))
    assert found["ap"]["ap"] == pytest.approx(np.mean(per_class))


def test_training_lowers_the_rate_checkpoints_and_resumes(tmp_path):
    def tiny():
        return InstanceSegmentation3D(
            SparseUNet3D([[8]], [8], [[8]]),
            num_classes=5,
            embedding_dim=4,
            coordinate_scale=instance_recipes.COORDINATE_SCALE,
            thing_classes=OBJECT_CLASSES,
        )

    calls = []
    results = instance_recipes.train_instance_segmentation(
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
    again = instance_recipes.train_instance_segmentation(
        model, 3, scenes_per_epoch=2, checkpoint_dir=str(tmp_path), resume=True
    )
    assert (again["first_epoch"], again["epochs_run"]) == (2, 1)
    # The last third of the epochs runs at a third of the rate; 2 epochs of 1 step, then 1.
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3 / 3)
    assert int(model.optimizer.iterations.numpy()) == 3
