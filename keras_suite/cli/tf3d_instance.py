"""The 3D instance segmentation part of `keras-suite tf3d` (`--task instance`).

Trains `InstanceSegmentation3D` on synthetic scenes generated afresh every epoch, reports the
instance AP (ScanNet style, over the furniture classes) on held-out scenes and draws ground-truth
and predicted instances over the points.
"""

import sys

from keras_suite.cli import tf3d, tf3d_task
from keras_suite.cli.tf3d import VOXEL_KEYS, VOXEL_SIZE, voxel_inputs
from keras_suite.cli.tf3d_task import TRAIN_SEED_STRIDE

NAME = "instance"
TITLE = "instance segmentation"
METRICS_KEY = "held_out_instance_ap"
CLASS_NAMES = ("floor", "wall", "box", "cylinder", "l_shape")
THING_CLASSES = (2, 3, 4)
PRESET = "synthetic_scenes_instance"
BATCH_SIZE = 4
# Spatial embeddings: 3 embedding units per metre, so that the embedding loss's push margin
# (means 3 units apart) asks for 1 m between instance centres and its pull margin (0.5) 17 cm.
COORDINATE_SCALE = 3.0 * VOXEL_SIZE


def load_scenes(count, seed_offset, augment_rng=None, point_geometry=False):
    """Generates and voxelizes scenes; adds the per-voxel and per-point instance targets.

    Floor and walls (instance label 0) belong to no instance: their instance id is -1. With
    `augment_rng` (a numpy Generator) every scene goes through `tf3d.augment_scene` first;
    `point_geometry` adds the point-geometry voxel features.
    """
    import numpy as np

    data = tf3d.load_scenes(count, seed_offset, augment_rng, point_geometry)
    for key in ("voxel_instance_labels", "instance_labels"):
        data[key] = np.where(data[key] > 0, data[key], -1).astype("int32")
    return data


def targets(data):
    return {
        "semantic_logits": data["voxel_semantic_labels"],
        "embeddings": data["voxel_instance_labels"],
    }


def model_class():
    from keras_suite.zoo import InstanceSegmentation3D

    return InstanceSegmentation3D


def build_model(from_semantic_preset=True):
    """The instance model of this command and its preset.

    Backbone and semantic head start from the semantic preset (the same voxels and features)
    when it ships and `from_semantic_preset` is set; otherwise the model is fresh.
    """
    backbone, semantic = tf3d_task.semantic_backbone(from_semantic_preset)
    model = model_class()(
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
        model.build(semantic.get_build_config()["input_shape"])
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

    compile_model(model, learning_rate)
    rng = np.random.default_rng(first_seed) if augment else None
    point_geometry = tf3d.uses_point_geometry(model)

    def fit_epoch(epoch):
        seed = first_seed + epoch * TRAIN_SEED_STRIDE
        data = load_scenes(scenes_per_epoch, seed, rng, point_geometry)
        dataset = (
            tf.data.Dataset.from_tensor_slices((voxel_inputs(data), targets(data)))
            .shuffle(scenes_per_epoch, seed=epoch)
            .batch(BATCH_SIZE)
        )
        return model.fit(dataset, epochs=1, shuffle=False, verbose=0)

    return tf3d_task.fit_fresh_epochs(model, epochs, learning_rate, fit_epoch, log, checkpoint)


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


def summary(ap):
    return f"AP {ap['ap']:.3f}, AP@0.5 {ap['ap_50']:.3f}, AP@0.25 {ap['ap_25']:.3f}"


def train_and_evaluate(out_dir, scenes_per_epoch, test_scenes, epochs, preset=None):
    """Trains (or fine-tunes a preset of) the instance model, evaluates held out, renders."""
    return tf3d_task.train_and_evaluate(
        sys.modules[__name__], out_dir, scenes_per_epoch, test_scenes, epochs, preset
    )


def preset_metadata(results, test_scenes):
    """The metadata of an instance preset: data, voxels, classes and held-out instance AP."""
    return tf3d_task.preset_metadata(
        test_scenes,
        results["point_geometry"],
        metrics={
            f"instance_{key}_points_held_out": value
            for key, value in results["held_out_instance_ap"].items()
        },
        metrics_per_class_held_out=results["held_out_instance_ap_per_class"],
        class_names=list(CLASS_NAMES),
        thing_classes=list(THING_CLASSES),
    )


def run_demo(out_dir):
    """Evaluates the shipped instance preset on held-out scenes and renders (no training)."""
    tf3d_task.run_demo(sys.modules[__name__], out_dir)
