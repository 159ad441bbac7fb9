"""The 3D object detection part of `keras-suite tf3d` (`--task detection`).

Trains `ObjectDetection3D` on synthetic scenes generated afresh every epoch, reports AP@0.25 and
AP@0.5 on held-out scenes and draws ground-truth and predicted boxes over the points.
"""

import sys

from keras_suite.cli import tf3d_task
from keras_suite.cli.tf3d import (
    MAX_VOXELS,
    NUM_POINTS,
    VOXEL_SIZE,
    uses_point_geometry,
    voxel_inputs,
)
from keras_suite.cli.tf3d_task import TRAIN_SEED_STRIDE

NAME = "detection"
TITLE = "detection"
METRICS_KEY = "held_out_ap"
DETECTION_CLASSES = ("box", "cylinder", "l_shape")
FIRST_OBJECT_CLASS = 2
PRESET = "synthetic_scenes_detection"
BATCH_SIZE = 4


def load_scenes(count, seed_offset, point_geometry=False):
    """Generates and voxelizes scenes, with per-voxel detection targets and world boxes.

    `point_geometry` adds the point-geometry voxel features.
    """
    from keras_suite.datasets.synthetic_scenes.scene_generator import generate_scene
    from keras_suite.datasets.synthetic_scenes.voxel_batch import scenes_to_voxels
    from keras_suite.zoo.tf3d.object_detection3d import voxel_box_targets

    scenes = [generate_scene(seed_offset + i, num_points=NUM_POINTS) for i in range(count)]
    data = scenes_to_voxels(
        scenes, VOXEL_SIZE, MAX_VOXELS, max_points=NUM_POINTS, point_geometry=point_geometry
    )
    classes = [s["box_classes"] - FIRST_OBJECT_CLASS + 1 for s in scenes]
    data["boxes"], data["classes"] = voxel_box_targets(
        data["voxel_instance_labels"],
        [s["box_centers"] - origin for s, origin in zip(scenes, data["voxel_origin"])],
        [s["box_sizes"] for s in scenes],
        [s["box_rotations"] for s in scenes],
        classes,
    )
    data["ground_truth"] = [
        {
            "boxes": _pack(s["box_centers"], s["box_sizes"], s["box_rotations"]),
            "classes": c,
        }
        for s, c in zip(scenes, classes)
    ]
    return data


def _pack(centers, sizes, rotations):
    import numpy as np

    return np.concatenate([centers, sizes, rotations[:, None]], axis=-1).astype("float32")


def model_class():
    from keras_suite.zoo import ObjectDetection3D

    return ObjectDetection3D


def build_model(from_semantic_preset=True):
    """The detection model of this command and its preset.

    The backbone is the semantic preset's U-Net (the same voxels and features) when that preset
    ships and `from_semantic_preset` is set; otherwise a fresh one of the same shape.
    """
    backbone, _ = tf3d_task.semantic_backbone(from_semantic_preset)
    # Positives from IoU 0.3: at 0.5 about half of the voxels of each object stay negatives and
    # the scores of every object class stay far below the background's on held-out scenes.
    return model_class()(backbone, len(DETECTION_CLASSES), VOXEL_SIZE, iou_threshold=0.3)


def train(model, epochs, scenes_per_epoch, learning_rate=1e-3, log=print, checkpoint=None):
    """Fits the model for `epochs` epochs, each on `scenes_per_epoch` freshly generated scenes.

    Epoch `e` uses training seeds `e * 10000 ...`, never the held-out seeds (1000000...).
    The learning rate drops to a third for the last third of the epochs. With `checkpoint` (a
    `.weights.h5` path) the weights are saved after every epoch.
    """
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    point_geometry = uses_point_geometry(model)

    def fit_epoch(epoch):
        data = load_scenes(scenes_per_epoch, epoch * TRAIN_SEED_STRIDE, point_geometry)
        return model.fit(
            voxel_inputs(data),
            {"boxes": data["boxes"], "classes": data["classes"]},
            batch_size=BATCH_SIZE,
            epochs=1,
            verbose=0,
        )

    return tf3d_task.fit_fresh_epochs(model, epochs, learning_rate, fit_epoch, log, checkpoint)


def detect(model, data):
    """Runs `predict_boxes` over voxelized scenes in batches; boxes in world coordinates."""
    detections = []
    for start in range(0, len(data["num_valid_voxels"]), BATCH_SIZE):
        part = {k: data[k][start : start + BATCH_SIZE] for k in voxel_inputs(data)}
        detections += model.predict_boxes(
            part, voxel_origin=data["voxel_origin"][start : start + BATCH_SIZE]
        )
    return detections


def evaluate(model, data):
    """AP@0.25 and AP@0.5 (mean over classes) of the model on voxelized scenes."""
    from keras_suite.metrics import DetectionAP3D

    detections = detect(model, data)
    metric = DetectionAP3D((0.25, 0.5))
    metric.update_state(data["ground_truth"], detections)
    per_class = {
        f"ap@{t:g}": {DETECTION_CLASSES[c - 1]: round(v, 4) for c, v in values.items()}
        for t, values in metric.per_class_ap().items()
    }
    return metric.result(), per_class, detections


def render(data, detections, index, path):
    """Writes a top-down PNG of one scene: ground-truth boxes beside predicted boxes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from keras_suite.ops.rotated_box_iou_3d import box_footprints

    n = data["num_valid_points"][index]
    points = data["points"][index, :n]
    height = np.clip(points[:, 2] / 1.6, 0, 1)
    colours = ("tab:red", "tab:blue", "tab:green")
    figure, axes = plt.subplots(1, 2, figsize=(10, 5))
    truth = data["ground_truth"][index]
    found = detections[index]
    for axis, boxes, classes, title in (
        (axes[0], truth["boxes"], truth["classes"], "ground truth"),
        (axes[1], found["boxes"], found["classes"], "prediction"),
    ):
        axis.scatter(points[:, 0], points[:, 1], c=height, cmap="Greys", s=0.5, vmin=-0.3)
        for corners, class_id in zip(box_footprints(boxes), classes):
            loop = np.concatenate([corners, corners[:1]])
            axis.plot(loop[:, 0], loop[:, 1], color=colours[int(class_id) - 1], linewidth=1.5)
        axis.set_xlim(points[:, 0].min() - 0.3, points[:, 0].max() + 0.3)
        axis.set_ylim(points[:, 1].min() - 0.3, points[:, 1].max() + 0.3)
        axis.set_title(title)
        axis.set_aspect("equal")
        axis.axis("off")
    handles = [plt.Line2D([], [], color=c, label=n) for c, n in zip(colours, DETECTION_CLASSES)]
    axes[1].legend(handles=handles, loc="upper right", fontsize=8)
    figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(figure)


def summary(ap):
    return f"AP@0.25 {ap['ap@0.25']:.3f}, AP@0.5 {ap['ap@0.5']:.3f}"


def train_and_evaluate(out_dir, scenes_per_epoch, test_scenes, epochs, preset=None):
    """Trains (or fine-tunes a preset of) the detector, evaluates on held-out scenes, renders."""
    return tf3d_task.train_and_evaluate(
        sys.modules[__name__], out_dir, scenes_per_epoch, test_scenes, epochs, preset
    )


def preset_metadata(results, test_scenes):
    """The metadata of a detection preset: data, voxels, classes and held-out AP."""
    return tf3d_task.preset_metadata(
        test_scenes,
        results["point_geometry"],
        metrics={
            "detection_ap@0.25_held_out": results["held_out_ap"]["ap@0.25"],
            "detection_ap@0.5_held_out": results["held_out_ap"]["ap@0.5"],
            "per_class": results["held_out_ap_per_class"],
        },
        class_names=["background", *DETECTION_CLASSES],
        box_packing="(cx, cy, cz, sx, sy, sz, yaw) in metres, voxel-grid frame",
    )


def run_demo(out_dir):
    """Evaluates the shipped detection preset on held-out scenes and renders (no training)."""
    tf3d_task.run_demo(sys.modules[__name__], out_dir)
