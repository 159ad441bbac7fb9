"""Training and evaluation of `SemanticSegmentation3D` on synthetic scenes, ScanNet or 3RScan.

Every dataset goes through `keras_suite.datasets.voxel_transform`: one vote per voxel (its
points' most frequent class), label -1 for voxels without a labelled point, and one score, the
voxel-level mean IoU (`MeanIoU3D` over the labelled voxels).
"""

import time

import keras
import numpy as np

from keras_suite.datasets.synthetic_scenes import (
    CLASS_NAMES,
    TEST_SEED_OFFSET,
    VALIDATION_SEED_OFFSET,
    scene_voxels,
)
from keras_suite.datasets.voxel_transform import check_manual_dir, voxel_dataset
from keras_suite.metrics import MeanIoU3D
from keras_suite.zoo.tf3d.epoch_loop import run_epochs
from keras_suite.zoo.tf3d.scene_metadata import scene_metadata
from keras_suite.zoo.tf3d.semantic_segmentation3d import SemanticSegmentation3D
from keras_suite.zoo.tf3d.sparse_unet3d import INPUT_KEYS
from keras_suite.zoo.tf3d.task_backbones import (
    add_point_geometry_inputs,
    build_backbone,
    uses_point_geometry,
)

BATCH_SIZE = 4
#: Epoch `e` of fresh-scene training uses seeds `e * TRAIN_SEED_STRIDE + FRESH_SEED_START ...`.
TRAIN_SEED_STRIDE = 10_000
FRESH_SEED_START = 5_000


def scene_batches(data, batch_size=BATCH_SIZE):
    """Yields `(inputs, voxel_semantic_labels)` batches of `scene_voxels` arrays."""
    for start in range(0, len(data["num_valid_voxels"]), batch_size):
        inputs = {key: data[key][start : start + batch_size] for key in INPUT_KEYS}
        yield inputs, data["voxel_semantic_labels"][start : start + batch_size]


def evaluate_semantic_segmentation(model, batches, num_batches=None, progress=None):
    """The voxel-level mean IoU of `model` over `(inputs, labels)` batches (labels -1 skipped).

    Args:
        model: a `SemanticSegmentation3D`.
        batches: an iterable of `(inputs, labels)`, e.g. `scene_batches(scene_voxels(...))`
            or `voxel_dataset(...)[0]`.
        num_batches: the number of batches, for `progress` (None when unknown).
        progress: optional `progress(done, total, **values)` called after each batch.

    Returns:
        A dict: `voxel_miou`, `voxel_iou_per_class` (a list, one IoU per class) and
        `predictions`, the predicted class of every voxel, one array per batch.

    Example:

    ```python
    data = scene_voxels(range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + 2), point_geometry=True)
    results = evaluate_semantic_segmentation(model, scene_batches(data))
    ```
    """
    metric = MeanIoU3D(model.num_classes, ignore_label=-1)
    predictions = []
    for done, (inputs, labels) in enumerate(batches, 1):
        logits = model(inputs, training=False)
        metric.update_state(labels, logits)
        predictions.append(np.argmax(keras.ops.convert_to_numpy(logits), axis=-1))
        if progress is not None:
            progress(done, num_batches, miou=float(metric.result()))
    confusion = keras.ops.convert_to_numpy(metric.confusion).astype("float64")
    union = confusion.sum(0) + confusion.sum(1) - np.diag(confusion)
    per_class = np.diag(confusion) / np.maximum(union, 1.0)
    return {
        "voxel_miou": float(metric.result()),
        "voxel_iou_per_class": [round(float(v), 4) for v in per_class],
        "predictions": predictions,
    }


def semantic_model(num_classes=5, preset=None, deep_backbone=False, point_geometry=False):
    """The semantic model the recipes train: a preset, or a fresh model.

    Args:
        num_classes: classes of a fresh model.
        preset: optional preset name or folder to start from.
        deep_backbone: two convolutions per U-Net level for a fresh model.
        point_geometry: read the point-geometry features; a preset without them gets them
            with zero first-layer weights (`add_point_geometry_inputs`).

    Returns:
        A `SemanticSegmentation3D`.
    """
    if preset is None:
        return SemanticSegmentation3D(build_backbone(deep_backbone), num_classes=num_classes)
    model = SemanticSegmentation3D.from_preset(preset)
    if point_geometry and not uses_point_geometry(model):
        model = add_point_geometry_inputs(model)
    return model


def train_semantic_segmentation(
    model,
    epochs,
    train_scenes=48,
    fresh_scenes=False,
    learning_rate=3e-3,
    validate_every=0,
    validation_scenes=12,
    checkpoint_dir=None,
    resume=False,
    progress=None,
):
    """Trains a semantic model on generated scenes.

    Without `fresh_scenes`, every epoch fits the same scenes (seeds `0 .. train_scenes - 1`) at
    a constant learning rate. With it, epoch `e` fits `train_scenes` new scenes (seeds
    `e * 10000 + 5000 ...`, turned, mirrored and scaled by `augment_scene`) and the learning
    rate decays from `learning_rate` to 1% along a cosine over all steps; with `validate_every`
    the voxel mIoU on `validation_scenes` scenes (seeds 500000...) is measured every that many
    epochs and after the last, and the model ends with the weights of the best check (a
    resumed run compares only the checks it makes itself: the checkpoint holds the latest
    weights, not the best). The model reads the point-geometry features when it was built with
    them.

    Args:
        model: a `SemanticSegmentation3D`.
        epochs: training epochs.
        train_scenes: scenes per epoch.
        fresh_scenes: new augmented scenes every epoch.
        learning_rate: Adam's (starting) learning rate.
        validate_every: with `fresh_scenes`, epochs between validation checks (0: none).
        validation_scenes: scenes of each check.
        checkpoint_dir, resume: see `keras_suite.zoo.tf3d.epoch_loop.run_epochs`.
        progress: optional `progress(epoch, epochs, loss=..., ...)` after each epoch.

    Returns:
        A dict: `epochs_run`, `first_epoch`, `final_training_loss` (when an epoch ran), and with
        validation `best_validation_voxel_miou` and `best_validation_epoch`.

    Example:

    ```python
    model = semantic_model()
    results = train_semantic_segmentation(model, epochs=1, train_scenes=2)
    ```
    """
    point_geometry = uses_point_geometry(model)
    steps_per_epoch = -(-train_scenes // BATCH_SIZE)
    if fresh_scenes:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, max(epochs * steps_per_epoch, 1), alpha=0.01
        )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    fixed = (
        None if fresh_scenes else scene_voxels(range(train_scenes), point_geometry=point_geometry)
    )
    validation = None
    if fresh_scenes and validate_every:
        seeds = range(VALIDATION_SEED_OFFSET, VALIDATION_SEED_OFFSET + validation_scenes)
        validation = scene_voxels(seeds, point_geometry=point_geometry)
    best = {}

    def fit_epoch(epoch):
        if fixed is None:
            first = epoch * TRAIN_SEED_STRIDE + FRESH_SEED_START
            data = scene_voxels(
                range(first, first + train_scenes),
                point_geometry=point_geometry,
                augment_rng=np.random.default_rng(epoch),
            )
        else:
            data = fixed
        model.optimizer.iterations.assign(epoch * steps_per_epoch)
        inputs = {key: data[key] for key in INPUT_KEYS}
        history = model.fit(inputs, data["voxel_semantic_labels"], batch_size=BATCH_SIZE, verbose=0)
        logs = {"loss": history.history["loss"][-1]}
        if validation is not None and ((epoch + 1) % validate_every == 0 or epoch + 1 == epochs):
            miou = evaluate_semantic_segmentation(model, scene_batches(validation))["voxel_miou"]
            logs["validation_miou"] = miou
            if miou > best.get("best_validation_voxel_miou", -1.0):
                best.update(
                    best_validation_voxel_miou=miou,
                    best_validation_epoch=epoch + 1,
                    weights=model.get_weights(),
                )
        return logs

    run = run_epochs(
        model, epochs, fit_epoch, progress, checkpoint_dir, resume, lambda: _example(point_geometry)
    )
    results = {"epochs_run": run["epochs_run"], "first_epoch": run["first_epoch"]}
    if run["logs"]:
        results["final_training_loss"] = run["logs"][-1]["loss"]
    if best:
        model.set_weights(best.pop("weights"))
        results.update(best)
    return results


def _example(point_geometry):
    data = scene_voxels(range(1), point_geometry=point_geometry)
    return {key: data[key] for key in INPUT_KEYS}


def train_and_evaluate_synthetic(
    epochs,
    train_scenes=48,
    test_scenes=12,
    preset=None,
    fresh_scenes=False,
    deep_backbone=False,
    point_geometry=False,
    learning_rate=None,
    validate_every=0,
    validation_scenes=12,
    checkpoint_dir=None,
    resume=False,
    progress=None,
    evaluation_progress=None,
):
    """Trains (or fine-tunes a preset of) the semantic model and evaluates it on held-out scenes.

    The model comes from `semantic_model`; a preset that reads the point-geometry features
    always gets them. Training is `train_semantic_segmentation` (skipped with `epochs=0`);
    `learning_rate` defaults to 3e-3 from scratch, 1e-3 from a preset. The held-out scenes are
    seeds `1000000 .. 1000000 + test_scenes - 1`.

    Args:
        epochs, train_scenes, fresh_scenes, validate_every, validation_scenes,
            checkpoint_dir, resume: see `train_semantic_segmentation`.
        test_scenes: held-out scenes.
        preset, deep_backbone, point_geometry: see `semantic_model`.
        learning_rate: Adam's learning rate (None: the default above).
        progress: optional `progress(done, total, **values)` after each training epoch.
        evaluation_progress: optional `evaluation_progress(done, total, miou=...)` after each
            evaluated batch.

    Returns:
        A dict: `model`, `test_data` (the `scene_voxels` of the held-out scenes),
        `predictions` (class of every held-out voxel) and `results` (floats: the training
        results, `preset_held_out_voxel_miou` when a preset trains, `held_out_voxel_miou`,
        `held_out_voxel_iou_per_class`, `held_out_scenes`, `point_geometry`, `seconds`).

    Example:

    ```python
    run = train_and_evaluate_synthetic(epochs=1, train_scenes=2, test_scenes=2)
    run["results"]["held_out_voxel_miou"]
    ```
    """
    start = time.time()
    model = semantic_model(
        preset=preset, deep_backbone=deep_backbone, point_geometry=point_geometry
    )
    if preset is not None:
        point_geometry = uses_point_geometry(model)
    test = scene_voxels(
        range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + test_scenes), point_geometry=point_geometry
    )
    num_batches = -(-test_scenes // BATCH_SIZE)
    results = {}
    if preset is not None and epochs > 0:
        before = evaluate_semantic_segmentation(
            model, scene_batches(test), num_batches, evaluation_progress
        )
        results["preset_held_out_voxel_miou"] = before["voxel_miou"]
    if epochs > 0:
        if learning_rate is None:
            learning_rate = 1e-3 if preset is not None else 3e-3
        results.update(
            train_semantic_segmentation(
                model,
                epochs,
                train_scenes,
                fresh_scenes,
                learning_rate,
                validate_every,
                validation_scenes,
                checkpoint_dir,
                resume,
                progress,
            )
        )
    found = evaluate_semantic_segmentation(
        model, scene_batches(test), num_batches, evaluation_progress
    )
    results.update(
        held_out_voxel_miou=found["voxel_miou"],
        held_out_voxel_iou_per_class=dict(zip(CLASS_NAMES, found["voxel_iou_per_class"])),
        held_out_scenes=test_scenes,
        point_geometry=point_geometry,
        seconds=round(time.time() - start, 1),
    )
    return {
        "model": model,
        "test_data": test,
        "predictions": np.concatenate(found["predictions"]),
        "results": results,
    }


def train_and_evaluate_real(
    dataset,
    manual_dir,
    data_dir,
    epochs,
    voxel_size=0.05,
    max_voxels=20000,
    checkpoint_dir=None,
    resume=False,
    progress=None,
    evaluation_progress=None,
):
    """Trains a fresh semantic model on ScanNet or 3RScan (`rio`) and evaluates it.

    The download in `manual_dir` is checked before any work (`check_manual_dir`). Trains on
    the `train` split and measures the voxel mIoU on the `validation` split.

    Args:
        dataset: "scannet" or "rio".
        manual_dir: folder of the manual download.
        data_dir: TFDS data folder.
        epochs: training epochs.
        voxel_size: voxel edge in metres.
        max_voxels: voxels per scene after padding.
        checkpoint_dir, resume: see `keras_suite.zoo.tf3d.epoch_loop.run_epochs`.
        progress: optional `progress(done, total, **values)` after each training epoch.
        evaluation_progress: optional `evaluation_progress(done, total, miou=...)` after each
            evaluated batch (`total` is None when the dataset does not tell its size).

    Returns:
        A dict: `model` and `results` (`dataset`, `voxel_size`, `max_voxels`, `num_classes`,
        `epochs_run`, `final_training_loss` when an epoch ran, `validation_voxel_miou`,
        `seconds`).
    """
    check_manual_dir(dataset, manual_dir)
    start = time.time()
    train, num_classes = voxel_dataset(
        dataset, "train", manual_dir, data_dir, voxel_size, max_voxels, BATCH_SIZE
    )
    validation, _ = voxel_dataset(
        dataset, "validation", manual_dir, data_dir, voxel_size, max_voxels, BATCH_SIZE
    )
    model = semantic_model(num_classes)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))

    def fit_epoch(epoch):
        history = model.fit(train, epochs=1, verbose=0)
        return {"loss": history.history["loss"][-1]}

    run = run_epochs(
        model, epochs, fit_epoch, progress, checkpoint_dir, resume, lambda: next(iter(train))[0]
    )
    results = {
        "dataset": dataset,
        "voxel_size": voxel_size,
        "max_voxels": max_voxels,
        "num_classes": num_classes,
        "epochs_run": run["epochs_run"],
    }
    if run["logs"]:
        results["final_training_loss"] = run["logs"][-1]["loss"]
    num_batches = int(validation.cardinality())  # negative when tf.data cannot tell
    found = evaluate_semantic_segmentation(
        model, validation, num_batches if num_batches >= 0 else None, evaluation_progress
    )
    results.update(validation_voxel_miou=found["voxel_miou"], seconds=round(time.time() - start, 1))
    return {"model": model, "results": results}


def synthetic_preset_metadata(results, train_scenes, fresh_scenes, validation_scenes):
    """The metadata of a semantic preset trained on synthetic scenes: data, voxels, metrics."""
    if fresh_scenes:
        training_data = (
            f"synthetic_scenes, {train_scenes} fresh scenes per epoch (epoch e: seeds "
            "e*10000+5000..), augmented by keras_suite.datasets.synthetic_scenes.augment_scene"
        )
    else:
        training_data = f"synthetic_scenes seeds 0..{train_scenes - 1}"
    metrics = {"semantic_miou_voxels_held_out": results["held_out_voxel_miou"]}
    metadata = {}
    if "best_validation_voxel_miou" in results:
        metrics["semantic_miou_voxels_validation"] = results["best_validation_voxel_miou"]
        metadata["validation_data"] = (
            f"synthetic_scenes seeds {VALIDATION_SEED_OFFSET}.."
            f"{VALIDATION_SEED_OFFSET + validation_scenes - 1}"
        )
    return {
        "description": "Sparse U-Net semantic segmentation of synthetic_scenes (5 classes)",
        "metrics": metrics,
        **metadata,
        **scene_metadata(training_data, results["held_out_scenes"], results["point_geometry"]),
        "class_names": list(CLASS_NAMES),
    }
