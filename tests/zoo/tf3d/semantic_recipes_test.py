import numpy as np
import pytest

from keras_suite.datasets.synthetic_scenes import TEST_SEED_OFFSET, scene_voxels
from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D
from keras_suite.zoo.tf3d import semantic_recipes

# The recipes read scenes through voxel_transform, a tf.data map.
pytestmark = pytest.mark.tensorflow_only


def tiny_model():
    return SemanticSegmentation3D(SparseUNet3D([[8]], [8], [[8]]), num_classes=5)


def test_evaluation_is_the_voxel_miou_of_a_numpy_reference():
    data = scene_voxels(range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + 2), num_points=2000)
    model = tiny_model()
    calls = []
    found = semantic_recipes.evaluate_semantic_segmentation(
        model, semantic_recipes.scene_batches(data, 1), 2, lambda *a, **v: calls.append(a)
    )
    assert calls == [(1, 2), (2, 2)]
    predicted = np.argmax(model(data).numpy(), -1)
    labels = data["voxel_semantic_labels"]
    keep = labels >= 0
    ious = []
    for c in range(5):
        union = ((predicted == c) | (labels == c)) & keep
        if union.sum():
            ious.append((((predicted == c) & (labels == c)) & keep).sum() / union.sum())
    np.testing.assert_allclose(found["voxel_miou"], np.mean(ious), atol=1e-6)


def test_compile_defaults_train_like_the_recipes():
    model = tiny_model()
    model.compile()
    assert model.optimizer.__class__.__name__ == "Adam"
    assert model.loss.ignore_label == -1
    data = scene_voxels(range(2), num_points=2000, max_voxels=600)
    inputs = {k: data[k] for k in ("voxel_features", "voxel_xyz_indices", "num_valid_voxels")}
    history = model.fit(inputs, data["voxel_semantic_labels"], batch_size=2, epochs=2, verbose=0)
    assert "mean_iou_3d" in "".join(history.history) or len(history.history) >= 2


def test_training_checkpoints_and_resumes(tmp_path):
    model = tiny_model()
    epochs = []
    results = semantic_recipes.train_semantic_segmentation(
        model,
        2,
        train_scenes=2,
        fresh_scenes=True,
        checkpoint_dir=str(tmp_path),
        progress=lambda done, total, **v: epochs.append((done, total, sorted(v))),
    )
    assert results["epochs_run"] == 2 and np.isfinite(results["final_training_loss"])
    assert epochs == [(1, 2, ["loss"]), (2, 2, ["loss"])]
    again = semantic_recipes.train_semantic_segmentation(
        tiny_model(),
        3,
        train_scenes=2,
        fresh_scenes=True,
        checkpoint_dir=str(tmp_path),
        resume=True,
    )
    assert (again["first_epoch"], again["epochs_run"]) == (2, 1)
