"""Training and evaluation of `ObjectDetection3D` on synthetic scenes.

Scenes come through `keras_suite.datasets.voxel_transform` (see `scene_voxels`); each voxel of
an object regresses that object's box (`voxel_box_targets`); the score is AP@0.25 and AP@0.5
over world boxes.
"""

import time

import keras
import numpy as np

from keras_suite.datasets.synthetic_scenes import (
    CLASS_NAMES,
    OBJECT_CLASSES,
    TEST_SEED_OFFSET,
    VOXEL_SIZE,
    scene_voxels,
)
from keras_suite.metrics import DetectionAP3D
from keras_suite.zoo.tf3d.epoch_loop import run_epochs, stepped_learning_rate
from keras_suite.zoo.tf3d.object_detection3d import ObjectDetection3D, voxel_box_targets
from keras_suite.zoo.tf3d.scene_metadata import scene_metadata
from keras_suite.zoo.tf3d.sparse_unet3d import INPUT_KEYS
from keras_suite.zoo.tf3d.task_backbones import semantic_backbone, uses_point_geometry

BATCH_SIZE = 4
TRAIN_SEED_STRIDE = 10_000
#: The detector's classes 1, 2, 3 (0 is the background): the object classes of the scenes.
DETECTION_CLASSES = tuple(CLASS_NAMES[c] for c in OBJECT_CLASSES)


def detection_model(preset=None, from_semantic_preset=True):
    """The detector the recipes train: a preset, or a new one on the semantic preset's U-Net.

    Args:
        preset: optional preset name or folder.
        from_semantic_preset: a new model starts from the semantic preset's U-Net when it ships.

    Returns:
        An `ObjectDetection3D`.
    """
    if preset is not None:
        return ObjectDetection3D.from_preset(preset)
    backbone, _ = semantic_backbone(from_semantic_preset)
    # Positives from IoU 0.3: at 0.5 about half of the voxels of each object stay negatives and
    # the scores of every object class stay far below the background's on held-out scenes.
    return ObjectDetection3D(backbone, len(DETECTION_CLASSES), VOXEL_SIZE, iou_threshold=0.3)


def detection_targets(data):
    """The fit targets of `scene_voxels` arrays: per-voxel boxes (voxel-grid frame), classes."""
    boxes, classes = voxel_box_targets(
        data["voxel_instance_labels"],
        [b[:, :3] - origin for b, origin in zip(data["boxes"], data["voxel_origin"])],
        [b[:, 3:6] for b in data["boxes"]],
        [b[:, 6] for b in data["boxes"]],
        [_detection_classes(c) for c in data["box_classes"]],
    )
    return {"boxes": boxes, "classes": classes}


def _detection_classes(scene_classes):
    return np.searchsorted(OBJECT_CLASSES, scene_classes).astype("int32") + 1


def train_object_detection(
    model,
    epochs,
    scenes_per_epoch=48,
    learning_rate=1e-3,
    checkpoint_dir=None,
    resume=False,
    progress=None,
):
    """Fits the detector for `epochs` epochs, each on `scenes_per_epoch` freshly generated scenes.

    Epoch `e` uses seeds `e * 10000 ...`, never the held-out seeds (1000000...). The learning
    rate drops to a third for the last third of the epochs.

    Args:
        model: an `ObjectDetection3D`.
        epochs: training epochs.
        scenes_per_epoch: new scenes per epoch.
        learning_rate: Adam's learning rate.
        checkpoint_dir, resume: see `keras_suite.zoo.tf3d.epoch_loop.run_epochs`.
        progress: optional `progress(epoch, epochs, loss=..., ...)` after each epoch.

    Returns:
        A dict: `epochs_run`, `first_epoch` and `final_training_losses` (when an epoch ran).

    Example:

    ```python
    model = detection_model(from_semantic_preset=False)
    train_object_detection(model, epochs=1, scenes_per_epoch=2)
    ```
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    point_geometry = uses_point_geometry(model)

    def fit_epoch(epoch):
        model.optimizer.learning_rate.assign(stepped_learning_rate(learning_rate, epoch, epochs))
        first = epoch * TRAIN_SEED_STRIDE
        data = scene_voxels(range(first, first + scenes_per_epoch), point_geometry=point_geometry)
        history = model.fit(
            {key: data[key] for key in INPUT_KEYS},
            detection_targets(data),
            batch_size=BATCH_SIZE,
            verbose=0,
        )
        return {name: values[-1] for name, values in history.history.items()}

    def example():
        data = scene_voxels(range(1), point_geometry=point_geometry)
        return {key: data[key] for key in INPUT_KEYS}

    run = run_epochs(model, epochs, fit_epoch, progress, checkpoint_dir, resume, example)
    results = {"epochs_run": run["epochs_run"], "first_epoch": run["first_epoch"]}
    if run["logs"]:
        results["final_training_losses"] = run["logs"][-1]
    return results


def evaluate_object_detection(model, data, progress=None):
    """AP@0.25 and AP@0.5 (mean over classes) of the detector on `scene_voxels` arrays.

    Args:
        model: an `ObjectDetection3D`.
        data: `scene_voxels` arrays (with their `boxes`).
        progress: optional `progress(done, total)` after each batch.

    Returns:
        A dict: `ap` (`ap@0.25`, `ap@0.5`), `per_class` and `detections` (one dict of world
        `boxes`, `scores` and `classes` per scene).
    """
    detections = []
    total = -(-len(data["num_valid_voxels"]) // BATCH_SIZE)
    for done, start in enumerate(range(0, len(data["num_valid_voxels"]), BATCH_SIZE), 1):
        inputs = {key: data[key][start : start + BATCH_SIZE] for key in INPUT_KEYS}
        detections += model.predict_boxes(
            inputs, voxel_origin=data["voxel_origin"][start : start + BATCH_SIZE]
        )
        if progress is not None:
            progress(done, total)
    truth = [
        {"boxes": boxes, "classes": _detection_classes(classes)}
        for boxes, classes in zip(data["boxes"], data["box_classes"])
    ]
    metric = DetectionAP3D((0.25, 0.5))
    metric.update_state(truth, detections)
    per_class = {
        f"ap@{t:g}": {DETECTION_CLASSES[c - 1]: round(v, 4) for c, v in values.items()}
        for t, values in metric.per_class_ap().items()
    }
    return {"ap": metric.result(), "per_class": per_class, "detections": detections}


def train_and_evaluate_detection(
    epochs,
    scenes_per_epoch=48,
    test_scenes=16,
    preset=None,
    checkpoint_dir=None,
    resume=False,
    progress=None,
    evaluation_progress=None,
):
    """Trains (or fine-tunes a preset of) the detector and evaluates it on held-out scenes.

    Trains with `train_object_detection` at a learning rate of 1e-3 (3e-4 from a preset) and
    evaluates on the held-out seeds `1000000 .. 1000000 + test_scenes - 1`.

    Args:
        epochs, scenes_per_epoch, checkpoint_dir, resume: see `train_object_detection`.
        test_scenes: held-out scenes.
        preset: optional preset name or folder to start from.
        progress: optional `progress(done, total, **values)` after each training epoch.
        evaluation_progress: optional `evaluation_progress(done, total)` after each evaluated
            batch.

    Returns:
        A dict: `model`, `test_data`, `predictions` (the detections) and `results`
        (`held_out_ap`, `held_out_ap_per_class`, `held_out_scenes`, `point_geometry`,
        `seconds` and the training results).
    """
    start = time.time()
    model = detection_model(preset)
    point_geometry = uses_point_geometry(model)
    test = scene_voxels(
        range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + test_scenes), point_geometry=point_geometry
    )
    results = {"point_geometry": point_geometry}
    if epochs > 0:
        results.update(
            train_object_detection(
                model,
                epochs,
                scenes_per_epoch,
                3e-4 if preset is not None else 1e-3,
                checkpoint_dir,
                resume,
                progress,
            )
        )
    found = evaluate_object_detection(model, test, evaluation_progress)
    results.update(
        held_out_ap=found["ap"],
        held_out_ap_per_class=found["per_class"],
        held_out_scenes=test_scenes,
        seconds=round(time.time() - start, 1),
    )
    return {
        "model": model,
        "test_data": test,
        "predictions": found["detections"],
        "results": results,
    }


def detection_preset_metadata(results):
    """The metadata of a detection preset: data, voxels, classes and held-out AP."""
    return {
        "description": "Voxel-vote 3D box detection of synthetic_scenes objects (3 classes)",
        **scene_metadata(
            "synthetic_scenes, fresh scenes every epoch (seeds epoch * 10000 + i)",
            results["held_out_scenes"],
            results["point_geometry"],
        ),
        "metrics": {
            "detection_ap@0.25_held_out": results["held_out_ap"]["ap@0.25"],
            "detection_ap@0.5_held_out": results["held_out_ap"]["ap@0.5"],
            "per_class": results["held_out_ap_per_class"],
        },
        "class_names": ["background", *DETECTION_CLASSES],
        "box_packing": "(cx, cy, cz, sx, sy, sz, yaw) in metres, voxel-grid frame",
    }
