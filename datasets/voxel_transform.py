"""A `tf.data` transform from 3D scene examples to the sparse voxel inputs of the TF3D models.

It reads the point positions, point features and labels of one example of `synthetic_scenes`,
`scannet`, `rio` or `waymo_open_lidar` (or of any dataset whose keys are given), groups the
points into voxels with `keras_suite.ops.voxelize`, and computes per-voxel targets: each voxel
takes the most frequent training class and the most frequent instance among its labelled points
(ties: the smallest id), and a loss weight of 1 when it has at least one labelled point (0 for
voxels made only of ignored points, and for padding). This is the one data path of the TF3D
recipes (`keras_suite.zoo.tf3d`), for generated and real scenes alike.
"""

import os

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

#: The voxel features `point_geometry=True` adds after the others: where the points lie inside
#: their voxel and how they spread (a flat face, an edge, a curved surface).
POINT_GEOMETRY_FEATURES = (
    "offset_x",
    "offset_y",
    "offset_z",
    "cov_xx",
    "cov_yy",
    "cov_zz",
    "cov_xy",
    "cov_xz",
    "cov_yz",
)

_INDOOR = {
    "points_key": "mesh/vertices/positions",
    "feature_keys": ("mesh/vertices/normals",),
    "semantic_key": "mesh/vertices/semantic_labels",
    "instance_key": "mesh/vertices/instance_labels",
    "boxes_key": None,
    "num_classes": 41,
    "ignore_labels": SCANNET_IGNORE_LABELS,
    "height_feature": False,
}
DATASET_DEFAULTS = {
    # Colour, then the height z of the points (metres) as one more feature; the five classes
    # of `keras_suite.datasets.synthetic_scenes.CLASS_NAMES`, instance 0 for floor and walls.
    "synthetic_scenes": {
        "points_key": "points",
        "feature_keys": ("colors",),
        "semantic_key": "semantic_labels",
        "instance_key": "instance_labels",
        "boxes_key": None,
        "num_classes": 5,
        "ignore_labels": (),
        "height_feature": True,
    },
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
        "height_feature": False,
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
    point_geometry=False,
    **keys,
):
    """Returns a function mapping one example to `(inputs, targets)` of voxel tensors.

    Args:
        dataset: "synthetic_scenes", "scannet", "rio" or "waymo_open_lidar", whose key
            defaults are used, or None to give every key (`points_key`, `feature_keys`,
            `semantic_key`, `instance_key`, `boxes_key`, `num_classes`, `ignore_labels`)
            explicitly.
        voxel_size: voxel edge in metres (TF3D uses 0.02 indoors), or three floats.
        max_voxels: voxels per example after padding (TF3D uses 120000 indoors); a scene with
            more keeps the first `max_voxels` in (x, y, z) order.
        feature_keys: keys of the per-point features concatenated into `voxel_features`
            (defaults: colours then the height z for `synthetic_scenes`, normals indoors,
            intensity and elongation for Waymo). uint8 features (colours) are scaled to
            [0, 1].
        class_ids: optional raw label ids that become the training classes 0, 1, ... in that
            order (e.g. `SCANNET20_CLASS_IDS`); every other id is ignored. Without it the raw
            ids are the classes (TF3D's ScanNet setting: 41 classes) and `ignore_labels` are
            ignored.
        ignore_labels: raw ids that get loss weight 0 when `class_ids` is None (default:
            `SCANNET_IGNORE_LABELS` indoors, none for Waymo).
        output_format: "dict" for `(inputs, targets)` as below, or "semantic" for
            `(model_inputs, labels)`, the `(x, y)` that `model.fit` takes for semantic
            segmentation: `model_inputs` holds only `voxel_features`, `voxel_xyz_indices` and
            `num_valid_voxels`, and `labels` is the training class of each voxel, -1 where its
            loss weight is 0 (the ignore label of `SemanticCrossEntropy3D` and `MeanIoU3D`).
        point_geometry: whether to add the 9 `POINT_GEOMETRY_FEATURES` after the others: the
            mean offset of the voxel's points from its centre in voxel edges (in [-0.5, 0.5]),
            then the 6 entries of their covariance in squared voxel edges, times 12 (1 for
            points spread evenly along a whole edge).
        **keys: overrides of `points_key`, `semantic_key`, `instance_key`, `boxes_key`,
            `num_classes` and `height_feature` (whether the points' z follows the features)
            ("a/b" walks nested dicts; a key set to None is not used).

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
    known = {
        "points_key", "semantic_key", "instance_key", "boxes_key", "num_classes", "height_feature"
    }  # fmt: skip
    unknown = set(keys) - known
    if unknown:
        raise ValueError(
            "Unknown keyword arguments. Expected points_key, semantic_key, instance_key, "
            f"boxes_key, num_classes or height_feature. Received: {sorted(unknown)}"
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
        features = [_as_float_feature(_get(example, key)) for key in config["feature_keys"]]
        if config.get("height_feature"):
            features.append(points[:, 2:])
        features = tf.concat(features, axis=-1)
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
        voxel_features = voxels.voxel_features[0]
        if point_geometry:
            centres = voxels.voxel_origin[0] + (
                tf.cast(voxels.voxel_xyz_indices[0], tf.float32) + 0.5
            ) * tf.constant(voxel_size, tf.float32)
            geometry = _point_geometry(points, point_to_voxel, centres, voxel_size, max_voxels)
            voxel_features = tf.concat([voxel_features, geometry], axis=-1)
        inputs = {
            "voxel_features": voxel_features,
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
            return inputs, tf.cast(voxel_semantic, tf.int32)
        if config["boxes_key"]:
            targets.update(_voxel_boxes(boxes, voxel_instance))
        return inputs, targets

    transform.num_classes = num_classes
    return transform


def _point_geometry(points, point_to_voxel, centres, voxel_size, max_voxels):
    """Per-voxel mean offset and covariance (x12) of the points, in voxel edges (V, 9)."""
    keep = point_to_voxel >= 0
    voxel = tf.boolean_mask(point_to_voxel, keep)
    offsets = tf.cast(tf.boolean_mask(points, keep) - tf.gather(centres, voxel), tf.float64)
    offsets /= tf.constant(voxel_size, tf.float64)
    pairs = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
    moments = tf.concat(
        [offsets, tf.stack([offsets[:, a] * offsets[:, b] for a, b in pairs], -1)], -1
    )
    sums = tf.math.unsorted_segment_sum(moments, voxel, max_voxels)
    counts = tf.math.unsorted_segment_sum(tf.ones_like(voxel, tf.float64), voxel, max_voxels)
    means = sums / tf.maximum(counts, 1.0)[:, tf.newaxis]
    product = tf.stack([means[:, a] * means[:, b] for a, b in pairs], -1)
    occupied = tf.cast(counts > 0, tf.float64)[:, tf.newaxis]
    covariance = 12.0 * (means[:, 3:] - product) * occupied
    return tf.cast(tf.concat([means[:, :3], covariance], -1), tf.float32)


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


#: What each manual download must hold, checked before any work: (path in it, description).
MANUAL_DIR_CONTENTS = {
    "scannet": ("scans", "the ScanNet scans (a `scans/` folder)"),
    "rio": ("3RScan.json", "the 3RScan download (`3RScan.json` and the scan folders)"),
}


def check_manual_dir(dataset, manual_dir):
    """Raises a one-line error unless `manual_dir` holds the manual download of `dataset`.

    Args:
        dataset: "scannet" or "rio".
        manual_dir: the folder given by the user.

    Raises:
        ValueError: `dataset` is not one of them or `manual_dir` is None.
        FileNotFoundError: `manual_dir` is not a folder holding the download.
    """
    if dataset not in MANUAL_DIR_CONTENTS:
        raise ValueError(
            f"`dataset` must be one of {sorted(MANUAL_DIR_CONTENTS)}. Received: {dataset!r}"
        )
    entry, description = MANUAL_DIR_CONTENTS[dataset]
    if manual_dir is None or not os.path.exists(os.path.join(manual_dir, entry)):
        raise FileNotFoundError(
            f"`--manual-dir` must be an existing folder with {description} for `{dataset}`. "
            f"Received: {manual_dir}"
        )


def voxel_dataset(dataset, split, manual_dir, data_dir, voxel_size, max_voxels, batch_size=4):
    """Builds a manually downloaded TFDS dataset and returns batches of fit-ready voxels.

    The download is checked first (`check_manual_dir`), then the `dataset` builder is prepared
    in `data_dir` and every example goes through `voxel_transform(..., output_format="semantic")`.

    Args:
        dataset: "scannet" or "rio".
        split: "train", "validation" or "test".
        manual_dir: folder of the manual download.
        data_dir: TFDS data folder.
        voxel_size: voxel edge in metres.
        max_voxels: voxels per scene after padding.
        batch_size: scenes per batch.

    Returns:
        `(batches, num_classes)`: a `tf.data.Dataset` of `(inputs, labels)` batches, labels -1
        where a voxel has no labelled point, and the number of classes.
    """
    import tensorflow_datasets as tfds

    check_manual_dir(dataset, manual_dir)
    builder = tfds.builder(dataset, data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
    transform = voxel_transform(dataset, voxel_size, max_voxels, output_format="semantic")
    batches = builder.as_dataset(split=split, shuffle_files=split == "train")
    if split == "train":
        batches = batches.shuffle(64, seed=0)
    batches = batches.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
    return batches.batch(batch_size).prefetch(tf.data.AUTOTUNE), transform.num_classes
