"""What the instance and detection parts of `keras-suite tf3d` share.

A task module (`tf3d_instance`, `tf3d_detection`) describes its pipeline with a few names:
`NAME` (file prefix), `TITLE` (for messages), `METRICS_KEY` (the results entry of its held-out
metrics), `PRESET`, `model_class()`, `build_model()`,
`load_scenes(count, seed_offset, point_geometry)`,
`train(model, epochs, scenes_per_epoch, learning_rate, log)`,
`evaluate(model, data)` -> `(metrics, per_class, predictions)`, `summary(metrics)` and
`render(data, predictions, index, path)`. This module runs them in the same order for every
task and writes the common part of their presets' metadata.
"""

import json
import os
import time

from keras_suite.cli.tf3d import (
    NUM_POINTS,
    TEST_SEED_OFFSET,
    VOXEL_SIZE,
    scene_metadata,
    uses_point_geometry,
)

SEMANTIC_PRESET = "synthetic_scenes_semantic"
TRAIN_SEED_STRIDE = 10_000


def semantic_backbone(from_semantic_preset=True):
    """The U-Net the task models start from, and the semantic model that holds it (or None).

    The semantic preset's trained U-Net (same voxels and features) when that preset ships and
    `from_semantic_preset` is set; otherwise a fresh `keras_suite.cli.tf3d.build_backbone()`.
    """
    from keras_suite.cli.tf3d import build_backbone
    from keras_suite.zoo import SemanticSegmentation3D

    if from_semantic_preset and SEMANTIC_PRESET in SemanticSegmentation3D.presets:
        semantic = SemanticSegmentation3D.from_preset(SEMANTIC_PRESET)
        return semantic.backbone, semantic
    return build_backbone(), None


def train_and_evaluate(task, out_dir, scenes_per_epoch, test_scenes, epochs, preset=None):
    """Trains (or fine-tunes a preset of) a task's model, evaluates it held out, renders.

    Training uses `epochs` epochs of `scenes_per_epoch` fresh scenes at a learning rate of
    1e-3 (3e-4 when fine-tuning a preset). Writes `<NAME>_metrics.json` and two PNGs to
    `out_dir`.

    The voxels carry the point-geometry features when the model reads them (a task model
    built on a semantic preset that has them).

    Returns:
        `(model, results)`, the results holding `task.METRICS_KEY`, its per-class table
        (`<METRICS_KEY>_per_class`), `held_out_scenes`, `point_geometry` and `seconds`.
    """
    os.makedirs(out_dir, exist_ok=True)
    start = time.time()
    if preset is not None:
        model = task.model_class().from_preset(preset)
        print(f"loaded preset {preset}", flush=True)
    else:
        model = task.build_model()
    point_geometry = uses_point_geometry(model)
    test = task.load_scenes(test_scenes, TEST_SEED_OFFSET, point_geometry=point_geometry)
    results = {"point_geometry": point_geometry}
    if epochs > 0:
        print(
            f"training {task.TITLE} for {epochs} epochs of {scenes_per_epoch} fresh scenes",
            flush=True,
        )
        losses = task.train(
            model,
            epochs,
            scenes_per_epoch,
            3e-4 if preset is not None else 1e-3,
            log=lambda line: print(line, flush=True),
        )
        results["final_training_losses"] = losses[-1]
    metrics, per_class, predictions = task.evaluate(model, test)
    results.update(
        {
            task.METRICS_KEY: metrics,
            f"{task.METRICS_KEY}_per_class": per_class,
            "held_out_scenes": test_scenes,
            "seconds": round(time.time() - start, 1),
        }
    )
    print(f"held-out {task.TITLE} ({test_scenes} scenes): {task.summary(metrics)}", flush=True)
    for index in range(min(2, test_scenes)):
        path = os.path.join(out_dir, f"{task.NAME}_scene_{index}.png")
        task.render(test, predictions, index, path)
    with open(os.path.join(out_dir, f"{task.NAME}_metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
    return model, results


def fit_fresh_epochs(model, epochs, learning_rate, fit_epoch, log=print, checkpoint=None):
    """The epoch loop of the task models: a fresh fit per epoch; the per-epoch logs.

    `fit_epoch(epoch)` generates that epoch's scenes and returns `model.fit`'s history. The
    learning rate (the compiled optimizer's) drops to a third for the last third of the epochs.
    With `checkpoint` (a `.weights.h5` path) the weights are saved after every epoch.
    """
    losses = []
    for epoch in range(epochs):
        if epoch == (2 * epochs) // 3 and epochs >= 3:
            model.optimizer.learning_rate.assign(learning_rate / 3)
        history = fit_epoch(epoch)
        logs = {k: round(float(v[-1]), 4) for k, v in history.history.items()}
        losses.append(logs)
        log(f"epoch {epoch + 1}/{epochs}: {logs}")
        if checkpoint:
            model.save_weights(checkpoint)
    return losses


def preset_metadata(test_scenes, point_geometry=False, **entries):
    """The metadata every task preset records (data, voxels, features) plus `entries`."""
    return {
        "training_data": "synthetic_scenes, fresh scenes every epoch (seeds epoch * "
        f"{TRAIN_SEED_STRIDE} + i), {NUM_POINTS} points, voxel_size {VOXEL_SIZE} m",
        **scene_metadata(test_scenes, point_geometry),
        **entries,
    }


def run_demo(task, out_dir):
    """Evaluates the task's shipped preset on 8 held-out scenes and renders (no training).

    Without a shipped preset, trains a fresh model for 2 epochs of 8 scenes first.
    """
    if task.PRESET in task.model_class().presets:
        train_and_evaluate(task, out_dir, 8, 8, 0, preset=task.PRESET)
    else:
        train_and_evaluate(task, out_dir, 8, 8, 2)
