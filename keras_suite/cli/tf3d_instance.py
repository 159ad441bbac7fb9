"""The 3D instance segmentation part of `keras-suite tf3d` (`--task instance`).

Trains `InstanceSegmentation3D` on synthetic scenes generated afresh every epoch, reports the
instance AP (ScanNet style, over the furniture classes) on held-out scenes and draws ground-truth
and predicted instances over the points.
"""

import json
import os
import time

from keras_suite.cli.tf3d import (
    MAX_VOXELS,
    NUM_POINTS,
    TEST_SEED_OFFSET,
    VOXEL_SIZE,
    augment_scene,
)

CLASS_NAMES = ("floor", "wall", "box", "cylinder", "l_shape")
THING_CLASSES = (2, 3, 4)
PRESET = "synthetic_scenes_instance"
SEMANTIC_PRESET = "synthetic_scenes_semantic"
TRAIN_SEED_STRIDE = 10_000
BATCH_SIZE = 4
VOXEL_KEYS = ("voxel_features", "voxel_xyz_indices", "num_valid_voxels")
# Spatial embeddings: 3 embedding units per metre, so that the embedding loss's push margin
# (means 3 units apart) asks for 1 m between instance centres and its pull margin (0.5) 17 cm.
COORDINATE_SCALE = 3.0 * VOXEL_SIZE


def load_scenes(count, seed_offset, augment_rng=None):
    """Generates and voxelizes scenes; adds the per-voxel and per-point instance targets.

    Floor and walls (instance label 0) belong to no instance: their instance id is -1. With
    `augment_rng` (a numpy Generator) every scene goes through `tf3d.augment_scene` first.
    """
    import numpy as np

    from keras_suite.datasets.synthetic_scenes.scene_generator import generate_scene
    from keras_suite.datasets.synthetic_scenes.voxel_batch import scenes_to_voxels

    scenes = [generate_scene(seed_offset + i, num_points=NUM_POINTS) for i in range(count)]
    if augment_rng is not None:
        scenes = [augment_scene(scene, augment_rng) for scene in scenes]
    data = scenes_to_voxels(scenes, VOXEL_SIZE, MAX_VOXELS, max_points=NUM_POINTS)
    for key in ("voxel_instance_labels", "instance_labels"):
        data[key] = np.where(data[key] > 0, data[key], -1).astype("int32")
    return data


def voxel_inputs(data):
    return {k: data[k] for k in VOXEL_KEYS}


def targets(data):
    return {
        "semantic_logits": data["voxel_semantic_labels"],
        "embeddings": data["voxel_instance_labels"],
    }


def build_model(from_semantic_preset=True):
    """The instance model of this command and its preset.

    Backbone and semantic head start from the semantic preset (the same voxels and features)
    when it ships and `from_semantic_preset` is set; otherwise the model is fresh.
    """
    from keras_suite.zoo import InstanceSegmentation3D, SemanticSegmentation3D, SparseUNet3D

    semantic = None
    if from_semantic_preset and SEMANTIC_PRESET in SemanticSegmentation3D.presets:
        semantic = SemanticSegmentation3D.from_preset(SEMANTIC_PRESET)
        backbone = semantic.backbone
    else:
        backbone = SparseUNet3D([[16], [32], [48]], [64], [[48], [32], [32]])
    model = InstanceSegmentation3D(
        backbone,
        num_classes=len(CLASS_NAMES),
        embedding_dim=8,
        coordinate_scale=COORDINATE_SCALE,
        thing_classes=THING_CLASSES,
        grouping_radius=2.5,
        min_score=0.3,
        min_instance_size=10,
        max_instances=32,
    )
    if semantic is not None:
        model.build({k: (None, None, 4 if k == "voxel_features" else 3) for k in VOXEL_KEYS})
        model.semantic_head.set_weights(semantic.head.get_weights())
    return model


def compile_model(model, learning_rate):
    import keras

    from keras_suite.losses import InstanceEmbeddingLoss3D, SemanticCrossEntropy3D

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={
            "semantic_logits": SemanticCrossEntropy3D(ignore_label=-1),
            "embeddings": InstanceEmbeddingLoss3D(pull_margin=0.5, push_margin=1.5),
        },
    )


def train(
    model,
    epochs,
    scenes_per_epoch,
    learning_rate=1e-3,
    log=print,
    checkpoint=None,
    first_seed=0,
    augment=False,
):
    """Fits the model for `epochs` epochs, each on `scenes_per_epoch` freshly generated scenes.

    Epoch `e` uses training seeds `first_seed + e * 10000 ...` (never the held-out seeds
    1000000...) through a shuffled `tf.data` pipeline, turned, mirrored and scaled at random
    with `augment`. The learning rate drops to a third for the last third of the epochs. With
    `checkpoint` (a `.weights.h5` path) the weights are saved after every epoch.
    """
    import numpy as np
    import tensorflow as tf

    losses = []
    compile_model(model, learning_rate)
    rng = np.random.default_rng(first_seed) if augment else None
    for epoch in range(epochs):
        if epoch == (2 * epochs) // 3 and epochs >= 3:
            model.optimizer.learning_rate.assign(learning_rate / 3)
        data = load_scenes(scenes_per_epoch, first_seed + epoch * TRAIN_SEED_STRIDE, rng)
        dataset = (
            tf.data.Dataset.from_tensor_slices((voxel_inputs(data), targets(data)))
            .shuffle(scenes_per_epoch, seed=epoch)
            .batch(BATCH_SIZE)
        )
        history = model.fit(dataset, epochs=1, shuffle=False, verbose=0)
        logs = {k: round(float(v[-1]), 4) for k, v in history.history.items()}
        losses.append(logs)
        log(f"epoch {epoch + 1}/{epochs}: {logs}")
        if checkpoint:
            model.save_weights(checkpoint)
    return losses


def predict(model, data):
    """Per-point instances of voxelized scenes: (ids, classes, scores) numpy arrays."""
    import numpy as np

    parts = []
    for start in range(0, len(data["num_valid_voxels"]), BATCH_SIZE):
        part = {k: data[k][start : start + BATCH_SIZE] for k in VOXEL_KEYS}
        found = model.predict_point_instances(
            part, data["point_to_voxel"][start : start + BATCH_SIZE]
        )
        parts.append([t.numpy() for t in found[:3]])
    return tuple(np.concatenate(p) for p in zip(*parts))


def evaluate(model, data):
    """Instance AP (mean over the furniture classes) on voxelized scenes, and predictions."""
    import numpy as np

    from keras_suite.metrics import InstanceAP3D

    predictions = predict(model, data)
    metric = InstanceAP3D(len(CLASS_NAMES), class_ids=THING_CLASSES)
    metric.update_state(data["instance_labels"], data["semantic_labels"], *predictions)
    table = metric.per_class_result()
    per_class = {
        name: {"ap_50": round(float(table[1, c]), 4), "ap_25": round(float(table[0, c]), 4)}
        for c, name in enumerate(CLASS_NAMES)
        if c in THING_CLASSES and not np.isnan(table[1, c])
    }
    return metric.result(), per_class, predictions


def render(data, predictions, index, path):
    """Writes a top-down PNG of one scene: ground-truth instances beside predicted instances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = data["num_valid_points"][index]
    points = data["points"][index, :n]
    order = np.argsort(points[:, 2])
    palette = plt.get_cmap("tab20")(np.arange(20))[:, :3]
    figure, axes = plt.subplots(1, 2, figsize=(10, 5))
    for axis, ids, title in (
        (axes[0], data["instance_labels"][index, :n], "ground-truth instances"),
        (axes[1], predictions[0][index, :n], "predicted instances"),
    ):
        colours = np.where(ids[:, None] >= 0, palette[np.maximum(ids, 0) % 20], 0.85)
        axis.scatter(points[order, 0], points[order, 1], c=colours[order], s=1)
        axis.set_title(f"{title} ({len(np.unique(ids[ids >= 0]))})")
        axis.set_aspect("equal")
        axis.axis("off")
    figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(figure)


def train_and_evaluate(out_dir, scenes_per_epoch, test_scenes, epochs, preset=None):
    """Trains (or fine-tunes a preset of) the instance model, evaluates held out, renders."""
    from keras_suite.zoo import InstanceSegmentation3D

    os.makedirs(out_dir, exist_ok=True)
    start = time.time()
    test = load_scenes(test_scenes, TEST_SEED_OFFSET)
    if preset is not None:
        model = InstanceSegmentation3D.from_preset(preset)
        print(f"loaded preset {preset}", flush=True)
    else:
        model = build_model()
    results = {}
    if epochs > 0:
        print(
            f"training instance segmentation for {epochs} epochs of {scenes_per_epoch} fresh "
            "scenes",
            flush=True,
        )
        losses = train(
            model,
            epochs,
            scenes_per_epoch,
            3e-4 if preset is not None else 1e-3,
            log=lambda line: print(line, flush=True),
        )
        results["final_training_losses"] = losses[-1]
    ap, per_class, predictions = evaluate(model, test)
    results.update(
        {
            "held_out_instance_ap": ap,
            "held_out_instance_ap_per_class": per_class,
            "held_out_scenes": test_scenes,
            "seconds": round(time.time() - start, 1),
        }
    )
    print(
        f"held-out instance segmentation ({test_scenes} scenes): AP {ap['ap']:.3f}, "
        f"AP@0.5 {ap['ap_50']:.3f}, AP@0.25 {ap['ap_25']:.3f}",
        flush=True,
    )
    for index in range(min(2, test_scenes)):
        render(test, predictions, index, os.path.join(out_dir, f"instance_scene_{index}.png"))
    with open(os.path.join(out_dir, "instance_metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
    return model, results


def preset_metadata(results, test_scenes):
    """The metadata of an instance preset: data, voxels, classes and held-out instance AP."""
    return {
        "training_data": "synthetic_scenes, fresh scenes every epoch (seeds epoch * "
        f"{TRAIN_SEED_STRIDE} + i), {NUM_POINTS} points, voxel_size {VOXEL_SIZE} m",
        "held_out_data": f"synthetic_scenes seeds {TEST_SEED_OFFSET}.."
        f"{TEST_SEED_OFFSET + test_scenes - 1}",
        "metrics": {
            f"instance_{key}_points_held_out": value
            for key, value in results["held_out_instance_ap"].items()
        },
        "metrics_per_class_held_out": results["held_out_instance_ap_per_class"],
        "voxel_size": VOXEL_SIZE,
        "max_voxels": MAX_VOXELS,
        "voxel_features": "mean colour (r, g, b) and height z in metres",
        "class_names": list(CLASS_NAMES),
        "thing_classes": list(THING_CLASSES),
    }


def run_demo(out_dir):
    """Evaluates the shipped instance preset on held-out scenes and renders (no training)."""
    from keras_suite.zoo import InstanceSegmentation3D

    if PRESET in InstanceSegmentation3D.presets:
        train_and_evaluate(out_dir, 8, 8, 0, preset=PRESET)
    else:
        train_and_evaluate(out_dir, 8, 8, 2)
