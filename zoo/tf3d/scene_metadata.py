"""What every TF3D preset trained on `synthetic_scenes` records about its data."""

from keras_suite.datasets.synthetic_scenes import (
    MAX_VOXELS,
    NUM_POINTS,
    TEST_SEED_OFFSET,
    VOXEL_SIZE,
)

#: How the recipes score on `synthetic_scenes`, recorded in every preset's metadata.
METRIC_DEFINITION = (
    "scenes voxelized by keras_suite.datasets.voxel_transform (each voxel takes its points' "
    "most frequent class and instance); scores are over voxels: semantic mIoU over labelled "
    "voxels, instance AP over voxel instances, detection AP over world boxes"
)


def scene_metadata(training_data, test_scenes, point_geometry=False):
    """The preset metadata of the synthetic-scenes recipes: data, voxels, features, metric.

    Args:
        training_data: one line on the training scenes.
        test_scenes: the number of held-out scenes (seeds 1000000...).
        point_geometry: whether the voxels carry the point-geometry features.

    Returns:
        A dict for `save_to_preset(metadata=...)`.
    """
    features = "mean colour (r, g, b) and height z in metres"
    if point_geometry:
        features += (
            ", then the points' mean offset from the voxel centre (3) and covariance (6, times "
            "12), in voxel edges (voxel_transform.POINT_GEOMETRY_FEATURES)"
        )
    return {
        "training_data": f"{training_data}, {NUM_POINTS} points, voxel_size {VOXEL_SIZE} m",
        "held_out_data": f"synthetic_scenes seeds {TEST_SEED_OFFSET}.."
        f"{TEST_SEED_OFFSET + test_scenes - 1}",
        "metric_definition": METRIC_DEFINITION,
        "voxel_size": VOXEL_SIZE,
        "max_voxels": MAX_VOXELS,
        "voxel_features": features,
    }
