"""The U-Nets the TF3D recipes start from, and the point-geometry input widening."""

import numpy as np

from keras_suite.datasets.voxel_transform import POINT_GEOMETRY_FEATURES
from keras_suite.zoo.tf3d.semantic_segmentation3d import SemanticSegmentation3D
from keras_suite.zoo.tf3d.sparse_unet3d import SparseUNet3D

#: The semantic preset whose U-Net the instance and detection models start from.
SEMANTIC_PRESET = "synthetic_scenes_semantic"
#: Voxel features of `synthetic_scenes`: mean colour (3) and height (1).
SCENE_FEATURES = 4


def build_backbone(deep=False):
    """The U-Net the recipes train from scratch: one convolution per level, or two with `deep`.

    Args:
        deep: two convolutions per level (the backbone of the semantic preset).

    Returns:
        A `SparseUNet3D`.

    Example:

    ```python
    backbone = build_backbone()
    ```
    """
    if deep:
        return SparseUNet3D(
            [[16, 16], [32, 32], [64, 64]], [64, 64], [[48, 48], [32, 32], [32, 32]]
        )
    return SparseUNet3D([[16], [32], [48]], [64], [[48], [32], [32]])


def semantic_backbone(from_semantic_preset=True):
    """The U-Net the task models start from, and the semantic model that holds it (or None).

    Args:
        from_semantic_preset: take the trained U-Net of `SEMANTIC_PRESET` when it ships.

    Returns:
        `(backbone, semantic_model)`: the preset's U-Net and model, or a fresh
        `build_backbone()` and None.
    """
    if from_semantic_preset and SEMANTIC_PRESET in SemanticSegmentation3D.presets:
        semantic = SemanticSegmentation3D.from_preset(SEMANTIC_PRESET)
        return semantic.backbone, semantic
    return build_backbone(), None


def uses_point_geometry(model):
    """Whether a model on synthetic scenes reads the point-geometry voxel features.

    Read from its backbone's input width; a backbone not built yet reads colour and height.

    Args:
        model: a TF3D task model.

    Returns:
        bool.
    """
    if not model.backbone.built:
        return False
    width = model.backbone.get_build_config()["input_shape"]["voxel_features"][-1]
    return width == SCENE_FEATURES + len(POINT_GEOMETRY_FEATURES)


def add_point_geometry_inputs(model):
    """A copy of a colour-and-height semantic model that also reads the point-geometry features.

    The first convolution's weights for the 9 new features start at zero, so the copy predicts
    what `model` predicts until it trains.

    Args:
        model: a built `SemanticSegmentation3D` reading 4 voxel features.

    Returns:
        A `SemanticSegmentation3D` reading 13.

    Example:

    ```python
    wide = add_point_geometry_inputs(model)
    ```
    """
    backbone = SparseUNet3D.from_config(model.backbone.get_config())
    wide = SemanticSegmentation3D(backbone, num_classes=model.num_classes)
    wide.build(
        {
            "voxel_features": (None, None, SCENE_FEATURES + len(POINT_GEOMETRY_FEATURES)),
            "voxel_xyz_indices": (None, None, 3),
            "num_valid_voxels": (None,),
        }
    )
    weights = []
    for old, new in zip(model.get_weights(), wide.get_weights()):
        if old.shape != new.shape:  # the first kernel: (k, k, k, in_channels, filters)
            new = np.zeros_like(new)
            new[..., : old.shape[-2], :] = old
            old = new
        weights.append(old)
    wide.set_weights(weights)
    return wide
