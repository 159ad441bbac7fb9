"""Generated scenes as voxel arrays for the TF3D recipes, through `voxel_transform`."""

import numpy as np
import tensorflow as tf

from keras_suite.datasets.synthetic_scenes.augment_scene import augment_scene
from keras_suite.datasets.synthetic_scenes.scene_generator import generate_scene, scene_example
from keras_suite.datasets.voxel_transform import voxel_transform

#: Points sampled per scene, voxel edge (metres) and voxels per scene of the TF3D recipes on
#: `synthetic_scenes` and of the presets trained on them.
NUM_POINTS = 12000
VOXEL_SIZE = 0.15
MAX_VOXELS = 5000
POINT_KEYS = ("points", "colors", "semantic_labels", "instance_labels")


def scene_voxels(
    seeds,
    num_points=NUM_POINTS,
    voxel_size=VOXEL_SIZE,
    max_voxels=MAX_VOXELS,
    point_geometry=False,
    augment_rng=None,
):
    """Generates the scenes of `seeds` and voxelizes them with `voxel_transform`.

    Every scene goes through `voxel_transform("synthetic_scenes", ...)`, the transform used for
    ScanNet and 3RScan too: features are the voxel's mean colour and height (then the 9
    `POINT_GEOMETRY_FEATURES` with `point_geometry`), and each voxel takes the most frequent
    class and instance of its points (ties: the smallest id).

    Args:
        seeds: the scenes' seeds (`TEST_SEED_OFFSET + i` for held-out scenes).
        num_points: points per scene.
        voxel_size: voxel edge in metres.
        max_voxels: voxels per scene after padding.
        point_geometry: whether to add the point-geometry voxel features.
        augment_rng: optional `numpy.random.Generator`: every scene first goes through
            `augment_scene` (its boxes are then dropped, as they no longer fit the points).

    Returns:
        A dict of numpy arrays, one row per scene: the model inputs `voxel_features`
        (S, max_voxels, C), `voxel_xyz_indices` (S, max_voxels, 3), `num_valid_voxels` (S,),
        `voxel_origin` (S, 3) (the world corner of voxel (0, 0, 0)); the targets
        `voxel_semantic_labels` (S, max_voxels) (class, -1 on padding) and
        `voxel_instance_labels` (S, max_voxels) (k >= 1: object k, 0: floor and walls, -1 on
        padding); and, without `augment_rng`, the lists `boxes` of world boxes (K, 7) packed
        `(cx, cy, cz, sx, sy, sz, yaw)` and `box_classes` (K,) of class ids, one per scene.

    Example:

    ```python
    data = scene_voxels(range(TEST_SEED_OFFSET, TEST_SEED_OFFSET + 2))
    data["voxel_features"].shape  # (2, 5000, 4)
    ```
    """
    transform = tf.function(
        voxel_transform("synthetic_scenes", voxel_size, max_voxels, point_geometry=point_geometry),
        reduce_retracing=True,
    )
    rows, boxes, box_classes = [], [], []
    for seed in seeds:
        scene = generate_scene(seed, num_points=num_points)
        if augment_rng is not None:
            scene = augment_scene(scene, augment_rng)
        example = scene_example(seed, scene)
        inputs, targets = transform({key: tf.constant(example[key]) for key in POINT_KEYS})
        labelled = targets["voxel_loss_weights"].numpy() > 0
        rows.append(
            {
                **{k: v.numpy() for k, v in inputs.items()},
                "voxel_semantic_labels": np.where(
                    labelled, targets["voxel_semantic_labels"].numpy(), -1
                ),
                "voxel_instance_labels": np.where(
                    labelled, targets["voxel_instance_labels"].numpy(), -1
                ),
            }
        )
        objects = example["objects"]
        boxes.append(
            np.concatenate(
                [objects["center"], objects["size"], objects["rotation"][:, None]], axis=-1
            ).astype("float32")
        )
        box_classes.append(objects["label"].astype("int32"))
    data = {key: np.stack([row[key] for row in rows]) for key in rows[0]}
    if augment_rng is None:
        data["boxes"], data["box_classes"] = boxes, box_classes
    return data
