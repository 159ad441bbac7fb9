"""A `tf.data` transform from 3D scene examples to the sparse voxel inputs of the TF3D models.

It reads the point positions, point features and labels of one example of `scannet`, `rio` or
`waymo_open_lidar` (or of any dataset whose keys are given), groups the points into voxels with
`keras_suite.ops.voxelize`, and computes per-voxel targets: each voxel takes the most frequent
training class and the most frequent instance among its labelled points, and a loss weight of 1
when it has at least one labelled point (0 for voxels made only of ignored points, and for
padding).
"""

import numpy as np
import tensorflow as tf

from keras_suite import ops

# TF3D's ScanNet (and Rio) semantic-segmentation config: NYU40 ids used as 41 classes, with
# these ids given loss weight 0 (unannotated, and the NYU40 classes outside ScanNet's 20).
SCANNET_IGNORE_LABELS = (
    0, 13, 15, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 29, 30, 31, 32, 35, 37, 38, 40, 255,
)  # fmt: skip
# The NYU40 ids of ScanNet's 20 benchmark classes (wall, floor, cabinet, bed, chair, sofa,
# table, door, window, bookshelf, picture, counter, desk, curtain, refrigerator, shower curtain,
# toilet, sink, bathtub, other furniture), for `class_ids=` (they become classes 0 to 19).
SCANNET20_CLASS_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)

_INDOOR = {
    "points_key": "mesh/vertices/positions",
    "feature_keys": ("mesh/vertices/normals",),
    "semantic_key": "mesh/vertices/semantic_labels",
    "instance_key": "mesh/vertices/instance_labels",
    "boxes_key": None,
    "num_classes": 41,
    "ignore_labels": SCANNET_IGNORE_LABELS,
}
DATASET_DEFAULTS = {
    "scannet": _INDOOR,
    "rio": _INDOOR,
    # Points take the category of the labelled box that contains them (0 = none).
    "waymo_open_lidar": {
        "points_key": "points/positions",
        "feature_keys": ("points/intensity", "points/elongation"),
        "semantic_key": None,
        "instance_key": None,
        "boxes_key": "objects",
        "num_classes": 5,
        "ignore_labels": (),
    },
}


def voxel_transform(
    dataset,
    voxel_size,
    max_voxels,
    feature_keys=None,
    class_ids=None,
    ignore_labels=None,
    output_format="dict",
    **keys,
):
    """Returns a function mapping one example to `(inputs, targets)` of voxel tensors.

    Args:
        dataset: "scannet", "rio" or "waymo_open_lidar", whose key defaults are used, or None
            to give every key (`points_key`, `feature_keys`, `semantic_key`, `instance_key`,
            `boxes_key`, `num_classes`, `ignore_labels`) explicitly.
        voxel_size: voxel edge in metres (TF3D uses 0.02 indoors), or three floats.
        max_voxels: voxels per example after padding (TF3D uses 120000 indoors); a scene with
            more keeps the first `max_voxels` in (x, y, z) order.
        feature_keys: keys of the per-point features concatenated into `voxel_features`
            (defaults: normals indoors, intensity and elongation for Waymo). uint8 features
            (colours) are scaled to [0, 1].
        class_ids: optional raw label ids that become the training classes 0, 1, ... in that
            order (e.g. `SCANNET20_CLASS_IDS`); every other id is ignored. Without it the raw
            ids are the classes (TF3D's ScanNet setting: 41 classes) and `ignore_labels` are
            ignored.
        ignore_labels: raw ids that get loss weight 0 when `class_ids` is None (default:
            `SCANNET_IGNORE_LABELS` indoors, none for Waymo).
        output_format: "dict" for `(inputs, targets)` as below, or "semantic" for
            `(model_inputs, voxel_semantic_labels, voxel_loss_weights)`, the
            `(x, y, sample_weight)` that `model.fit` takes for semantic segmentation, where
            `model_inputs` holds only `voxel_features`, `voxel_xyz_indices` and
            `num_valid_voxels`.
        **keys: overrides of `points_key`, `semantic_key`, `instance_key`, `boxes_key` and
            `num_classes` ("a/b" walks nested dicts; a key set to None is not used).

    Returns:
        A function `example -> (inputs, targets)` for `tf.data.Dataset.map`, where `inputs` has
        `voxel_features` (max_voxels, C) float32, `voxel_xyz_indices` (max_voxels, 3) int32,
        `num_valid_voxels` () int32 and `voxel_origin` (3,) float32, and `targets` has
        `voxel_semantic_labels` (max_voxels,) int32 (training class), `voxel_instance_labels`
        (max_voxels,) int32 (0 = none) and `voxel_loss_weights` (max_voxels,) float32; with
        boxes also `voxel_box_centers` (max_voxels, 3), `voxel_box_sizes` (max_voxels, 3) and
        `voxel_box_headings` (max_voxels,) of the voxel's instance (zeros where none).

    Example:

    ```python
    ds = tfds.load("scannet", split="train")
    transform = keras_suite.datasets.voxel_transform("scannet", voxel_size=0.02,
                                                     max_voxels=120000)
    ds = ds.map(transform).batch(4)
    ```
    """
    if output_format not in ("dict", "semantic"):
        raise ValueError(
            '`output_format` must be "dict" or "semantic". '
            f"Received: output_format={output_format!r}"
        )
    if dataset is not None and dataset not in DATASET_DEFAULTS:
        raise ValueError(
            f"`dataset` must be one of {sorted(DATASET_DEFAULTS)} or None (then give every key). "
            f"Received: dataset={dataset!r}"
        )
    config = dict(DATASET_DEFAULTS.get(dataset, {}))
    unknown = set(keys) - {"points_key", "semantic_key", "instance_key", "boxes_key", "num_classes"}
    if unknown:
        raise ValueError(
            "Unknown keyword arguments. Expected points_key, semantic_key, instance_key, "
            f"boxes_key or num_classes. Received: {sorted(unknown)}"
        )
    config.update(keys)
    if feature_keys is not None:
        config["feature_keys"] = tuple(feature_keys)
    if ignore_labels is not None:
        config["ignore_labels"] = tuple(ignore_labels)
    missing = [k for k in ("points_key", "feature_keys", "num_classes") if not config.get(k)]
    if missing:
        raise ValueError(
            f"With dataset=None, `voxel_transform` needs {missing}. Received: {config}"
        )
    if not isinstance(max_voxels, int | np.integer) or max_voxels < 1:
        raise ValueError(
            f"`max_voxels` must be a positive int. Received: max_voxels={max_voxels!r}"
        )
    table, num_classes = _label_table(config["num_classes"], class_ids, config["ignore_labels"])

    def transform(example):
        points = tf.cast(_get(example, config["points_key"]), tf.float32)
        features = tf.concat(
            [_as_float_feature(_get(example, key)) for key in config["feature_keys"]], axis=-1
        )
        num_points = tf.shape(points)[0]
        voxels = ops.voxelize(
            points[tf.newaxis],
            features[tf.newaxis],
            num_points[tf.newaxis],
            voxel_size,
            max_voxels,
        )
        point_to_voxel = voxels.point_to_voxel[0]
        if config["boxes_key"]:
            boxes = _get(example, config["boxes_key"])
            instance = _points_in_boxes(points, boxes)
            category = tf.cast(boxes["category"], tf.int64)
            raw = tf.where(instance > 0, tf.gather(category, tf.maximum(instance - 1, 0)), 0)
        else:
            raw = _labels(example, config["semantic_key"], num_points)
            instance = _labels(example, config["instance_key"], num_points)
        semantic = tf.gather(table, tf.clip_by_value(raw, 0, len(table) - 1))
        semantic = tf.where((raw >= 0) & (raw < len(table)), semantic, -1)
        labelled = semantic >= 0
        voxel_semantic = _segment_mode(semantic, point_to_voxel, labelled, max_voxels)
        voxel_instance = _segment_mode(instance, point_to_voxel, labelled, max_voxels)
        has_label = voxel_semantic >= 0
        inputs = {
            "voxel_features": voxels.voxel_features[0],
            "voxel_xyz_indices": voxels.voxel_xyz_indices[0],
            "num_valid_voxels": voxels.num_valid_voxels[0],
            "voxel_origin": voxels.voxel_origin[0],
        }
        targets = {
            "voxel_semantic_labels": tf.cast(tf.maximum(voxel_semantic, 0), tf.int32),
            "voxel_instance_labels": tf.cast(tf.maximum(voxel_instance, 0), tf.int32),
            "voxel_loss_weights": tf.cast(has_label, tf.float32),
        }
        if output_format == "semantic":
            inputs.pop("voxel_origin")
            return inputs, targets["voxel_semantic_labels"], targets["voxel_loss_weights"]
        if config["boxes_key"]:
            targets.update(_voxel_boxes(boxes, voxel_instance))
        return inputs, targets

    transform.num_classes = num_classes
    return transform


def _get(example, key):
    if key in example:
        return example[key]
    value = example
    for part in key.split("/"):
        if part not in value:
            raise KeyError(
                f"The example has no feature `{key}`. Expected it for the voxel transform. "
                f"Received the keys: {sorted(example)}"
            )
        value = value[part]
    return value


def _as_float_feature(value):
    scale = 1.0 / 255.0 if value.dtype == tf.uint8 else 1.0
    value = tf.cast(value, tf.float32) * scale
    return value[:, tf.newaxis] if value.shape.rank == 1 else value


def _labels(example, key, num_points):
    if key is None:
        return tf.zeros([num_points], tf.int64)
    return tf.reshape(tf.cast(_get(example, key), tf.int64), [-1])


def _label_table(num_classes, class_ids, ignore_labels):
    """A lookup from raw label id to training class (-1 = ignored), and the number of classes."""
    if class_ids is not None:
        class_ids = [int(i) for i in class_ids]
        if len(set(class_ids)) != len(class_ids) or min(class_ids, default=0) < 0:
            raise ValueError(
                f"`class_ids` must be distinct non-negative label ids. Received: {class_ids}"
            )
        table = np.full(max(class_ids, default=0) + 1, -1, np.int64)
        table[class_ids] = np.arange(len(class_ids))
        return tf.constant(table), len(class_ids)
    table = np.arange(max(num_classes, max(ignore_labels, default=0) + 1), dtype=np.int64)
    table[table >= num_classes] = -1
    table[list(ignore_labels)] = -1
    return tf.constant(table), num_classes


def _segment_mode(values, segment_ids, valid, num_segments):
    """The most frequent value of each segment over valid rows (ties: the smallest), else -1."""
    keep = valid & (segment_ids >= 0)
    values = tf.boolean_mask(tf.cast(values, tf.int64), keep)
    segments = tf.cast(tf.boolean_mask(segment_ids, keep), tf.int64)
    width = tf.reduce_max(tf.concat([values, [0]], axis=0)) + 1
    unique, _, counts = tf.unique_with_counts(segments * width + values)
    unique_segments = unique // width
    best = tf.math.unsorted_segment_max(counts, unique_segments, num_segments)
    is_best = counts == tf.gather(best, unique_segments)
    big = tf.constant(np.iinfo(np.int64).max, tf.int64)
    candidates = tf.where(is_best, unique % width, big)
    mode = tf.math.unsorted_segment_min(candidates, unique_segments, num_segments)
    return tf.where(mode == big, tf.constant(-1, tf.int64), mode)


def _points_in_boxes(points, boxes):
    """1 + the index of the first upright box holding each point (0 = none), int64 (N,)."""
    centers = tf.cast(boxes["center"], tf.float32)
    sizes = tf.cast(boxes["size"], tf.float32)
    headings = tf.cast(boxes["heading"], tf.float32)

    def body(i, assigned):
        offset = points - centers[i]
        cos, sin = tf.cos(headings[i]), tf.sin(headings[i])
        local = tf.stack(
            [
                offset[:, 0] * cos + offset[:, 1] * sin,
                -offset[:, 0] * sin + offset[:, 1] * cos,
                offset[:, 2],
            ],
            axis=-1,
        )
        inside = tf.reduce_all(tf.abs(local) <= sizes[i] / 2, axis=-1)
        return i + 1, tf.where(inside & (assigned == 0), tf.cast(i + 1, tf.int64), assigned)

    _, assigned = tf.while_loop(
        lambda i, _: i < tf.shape(centers)[0],
        body,
        (tf.constant(0), tf.zeros([tf.shape(points)[0]], tf.int64)),
    )
    return assigned


def _voxel_boxes(boxes, voxel_instance):
    index = tf.maximum(voxel_instance - 1, 0)
    found = voxel_instance > 0

    def gather(key, width):
        values = tf.cast(boxes[key], tf.float32)
        values = tf.concat([values, tf.zeros((1,) + width, tf.float32)], axis=0)
        picked = tf.gather(
            values, tf.where(found, index, tf.cast(tf.shape(values)[0] - 1, tf.int64))
        )
        return picked

    return {
        "voxel_box_centers": gather("center", (3,)),
        "voxel_box_sizes": gather("size", (3,)),
        "voxel_box_headings": gather("heading", ()),
    }
