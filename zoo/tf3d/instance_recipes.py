"""Training and evaluation of `InstanceSegmentation3D` on synthetic scenes.

Scenes come through `keras_suite.datasets.voxel_transform` (see `scene_voxels`); the score is
the instance AP (ScanNet style, over the furniture classes) over voxel instances.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from keras_suite.datasets.synthetic_scenes import (
    CLASS_NAMES,
    OBJECT_CLASSES,
    TEST_SEED_OFFSET,
    VOXEL_SIZE,
    scene_voxels,
)
from keras_suite.metrics import InstanceAP3D
from keras_suite.zoo.tf3d.epoch_loop import run_epochs, stepped_learning_rate
from keras_suite.zoo.tf3d.instance_segmentation3d import InstanceSegmentation3D
from keras_suite.zoo.tf3d.scene_metadata import scene_metadata
from keras_suite.zoo.tf3d.sparse_unet3d import INPUT_KEYS
from keras_suite.zoo.tf3d.task_backbones import semantic_backbone, uses_point_geometry

BATCH_SIZE = 4
TRAIN_SEED_STRIDE = 10_000
# Spatial embeddings: 3 embedding units per metre, so that the embedding loss's push margin
# (means 3 units apart) asks for 1 m between instance centres and its pull margin (0.5) 17 cm.
COORDINATE_SCALE = 3.0 * VOXEL_SIZE


def instance_model(preset=None, from_semantic_preset=True):
    """The instance model the recipes train: a preset, or a new one on the semantic U-Net.

    Args:
        preset: optional preset name or folder.
        from_semantic_preset: a new model starts its backbone and semantic head from the
            semantic preset when it ships.

    Returns:
        An `InstanceSegmentation3D`.
    """
    if preset is not None:
        return InstanceSegmentation3D.from_preset(preset)
    backbone, semantic = semantic_backbone(from_semantic_preset)
    model = InstanceSegmentation3D(
        backbone,
        num_classes=len(CLASS_NAMES),
        embedding_dim=8,
        coordinate_scale=COORDINATE_SCALE,
        thing_classes=OBJECT_CLASSES,
        grouping_radius=2.5,
        min_score=0.3,
        min_instance_size=10,
        max_instances=32,
    )
    if semantic is not None:
        model.build(semantic.get_build_config()["input_shape"])
        model.semantic_head.set_weights(semantic.head.get_weights())
    return model


def instance_targets(data):
    """The fit targets of `scene_voxels` arrays: classes, and instance ids (-1: no object)."""
    ids = data["voxel_instance_labels"]
    return {
        "semantic_logits": data["voxel_semantic_labels"],
        "embeddings": np.where(ids > 0, ids, -1).astype("int32"),
    }


def train_instance_segmentation(
    model,
    epochs,
    scenes_per_epoch=16,
    learning_rate=1e-3,
    first_seed=0,
    augment=False,
    checkpoint_dir=None,
    resume=False,
    progress=None,
):
    """Fits the model for `epochs` epochs, each on `scenes_per_epoch` freshly generated scenes.

    Epoch `e` uses seeds `first_seed + e * 10000 ...` (never the held-out seeds 1000000...),
    shuffled, turned, mirrored and scaled at random with `augment`. The loss is the model's
    `compile()` default; the learning rate drops to a third for the last third of the epochs.

    Args:
        model: an `InstanceSegmentation3D`.
        epochs: training epochs.
        scenes_per_epoch: new scenes per epoch.
        learning_rate: Adam's learning rate.
        first_seed: seed of the first scene of epoch 0.
        augment: pass every scene through `augment_scene`.
        checkpoint_dir, resume: see `keras_suite.zoo.tf3d.epoch_loop.run_epochs`.
        progress: optional `progress(epoch, epochs, loss=..., ...)` after each epoch.

    Returns:
        A dict: `epochs_run`, `first_epoch` and `final_training_losses` (when an epoch ran).

    Example:

    ```python
    model = instance_model(from_semantic_preset=False)
    train_instance_segmentation(model, epochs=1, scenes_per_epoch=2)
    ```
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    point_geometry = uses_point_geometry(model)

    def fit_epoch(epoch):
        model.optimizer.learning_rate.assign(stepped_learning_rate(learning_rate, epoch, epochs))
        first = first_seed + epoch * TRAIN_SEED_STRIDE
        data = scene_voxels(
            range(first, first + scenes_per_epoch),
            point_geometry=point_geometry,
            augment_rng=np.random.default_rng(first) if augment else None,
        )
        dataset = (
            tf.data.Dataset.from_tensor_slices(
                ({key: data[key] for key in INPUT_KEYS}, instance_targets(data))
            )
            .shuffle(scenes_per_epoch, seed=epoch)
            .batch(BATCH_SIZE)
        )
        history = model.fit(dataset, epochs=1, shuffle=False, verbose=0)
        return {name: values[-1] for name, values in history.history.items()}

    def example():
        data = scene_voxels(range(1), point_geometry=point_geometry)
        return {key: data[key] for key in INPUT_KEYS}

    run = run_epochs(model, epochs, fit_epoch, progress, checkpoint_dir, resume, example)
    results = {"epochs_run": run["epochs_run"], "first_epoch": run["first_epoch"]}
    if run["logs"]:
        results["final_training_losses"] = run["logs"][-1]
    return results


def evaluate_instance_segmentation(model, data, progress=None):
    """Instance AP (mean over the furniture classes) over the voxels of `scene_voxels` arrays.

    Args:
        model: an `InstanceSegmentation3D`.
        data: `scene_voxels` arrays.
        progress: optional `progress(done, total)` after each batch.

    Returns:
        A dict: `ap` (`ap`, `ap_50`, `ap_25`), `per_class` (`ap_50`, `ap_25` by class name) and
        `predictions` (`instance_ids` (S, V), `instance_classes`, `instance_scores`).
    """
    parts = []
    total = -(-len(data["num_valid_voxels"]) // BATCH_SIZE)
    for done, start in enumerate(range(0, len(data["num_valid_voxels"]), BATCH_SIZE), 1):
        inputs = {key: data[key][start : start + BATCH_SIZE] for key in INPUT_KEYS}
        found = model.predict_instances(inputs)
        parts.append([keras.ops.convert_to_numpy(t) for t in found[:3]])
        if progress is not None:
            progress(done, total)
    ids, classes, scores = (np.concatenate(p) for p in zip(*parts))
    truth = np.where(data["voxel_instance_labels"] > 0, data["voxel_instance_labels"], -1)
    metric = InstanceAP3D(len(CLASS_NAMES), class_ids=OBJECT_CLASSES)
    metric.update_state(truth, data["voxel_semantic_labels"], ids, classes, scores)
    table = metric.per_class_result()
    per_class = {
        name: {"ap_50": round(float(table[1, c]), 4), "ap_25": round(float(table[0, c]), 4)}
        for c, name in enumerate(CLASS_NAMES)
        if c in OBJECT_CLASSES and not np.isnan(table[1, c])
    }
    return {
        "ap": metric.result(),
        "per_class": per_class,
        "predictions": {
            "instance_ids": ids,
            "instance_classes": classes,
            "instance_scores": scores,
        },
    }


def train_and_evaluate_instance(
    epochs,
    scenes_per_epoch=16,
    test_scenes=12,
    preset=None,
    checkpoint_dir=None,
    resume=False,
    progress=None,
    evaluation_progress=None,
):
    """Trains (or fine-tunes a preset of) the instance model and evaluates it held out.

    Trains with `train_instance_segmentation` at a learning rate of 1e-3 (3e-4 from a preset)
    and evaluates on the held-out seeds `1000000 .. 1000000 + test_scenes - 1`.

    Args:
        epochs, scenes_per_epoch, checkpoint_dir, resume: see `train_instance_segmentation`.
        test_scenes: held-out scenes.
        preset: optional preset name or folder to start from.
        progress: optional `progress(done, total, **values)` after each training epoch.
        evaluation_progress: optional `evaluation_progress(done, total)` after each evaluated
            batch.

    Returns:
        A dict: `model`, `test_data`, `predictions` and `results` (`held_out_instance_ap`,
        `held_out_instance_ap_per_class`, `held_out_scenes`, `point_geometry`, `seconds` and
        the training results).
    """
    start = time.time()
    model = instance_model(preset)
    point_geometry = uses_point_geometry(model)
    test = scene_voxels(
        range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + test_scenes), point_geometry=point_geometry
    )
    results = {"point_geometry": point_geometry}
    if epochs > 0:
        results.update(
            train_instance_segmentation(
                model,
                epochs,
                scenes_per_epoch,
                3e-4 if preset is not None else 1e-3,
                checkpoint_dir=checkpoint_dir,
                resume=resume,
                progress=progress,
            )
        )
    found = evaluate_instance_segmentation(model, test, evaluation_progress)
    results.update(
        held_out_instance_ap=found["ap"],
        held_out_instance_ap_per_class=found["per_class"],
        held_out_scenes=test_scenes,
        seconds=round(time.time() - start, 1),
    )
    return {
        "model": model,
        "test_data": test,
        "predictions": found["predictions"],
        "results": results,
    }


def instance_preset_metadata(results):
    """The metadata of an instance preset: data, voxels, classes and held-out instance AP."""
    return {
        "description": "Instance segmentation (spatial embeddings) of synthetic_scenes objects",
        **scene_metadata(
            "synthetic_scenes, fresh scenes every epoch (seeds epoch * 10000 + i)",
            results["held_out_scenes"],
            results["point_geometry"],
        ),
        "metrics": {
            f"instance_{key}_voxels_held_out": value
            for key, value in results["held_out_instance_ap"].items()
        },
        "metrics_per_class_held_out": results["held_out_instance_ap_per_class"],
        "class_names": list(CLASS_NAMES),
        "thing_classes": list(OBJECT_CLASSES),
    }
