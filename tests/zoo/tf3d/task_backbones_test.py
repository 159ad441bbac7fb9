import numpy as np
import pytest

from keras_suite.datasets.synthetic_scenes import TEST_SEED_OFFSET, scene_voxels
from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D
from keras_suite.zoo.tf3d import task_backbones
from keras_suite.zoo.tf3d.sparse_unet3d import INPUT_KEYS

# Its scenes come through voxel_transform, a tf.data map.
pytestmark = pytest.mark.tensorflow_only

DIMENSIONS = ("encoder_dimensions", "bottleneck_dimensions", "decoder_dimensions")


def test_deep_backbone_is_the_semantic_presets_u_net():
    preset = SemanticSegmentation3D.from_preset(task_backbones.SEMANTIC_PRESET)
    deep = task_backbones.build_backbone(deep=True).get_config()
    shallow = task_backbones.build_backbone().get_config()
    for key in DIMENSIONS:
        assert deep[key] == preset.backbone.get_config()[key]
    assert shallow["encoder_dimensions"] == [[16], [32], [48]]
    backbone, semantic = task_backbones.semantic_backbone()
    assert semantic is not None and backbone is semantic.backbone
    assert task_backbones.uses_point_geometry(semantic)
    backbone, semantic = task_backbones.semantic_backbone(from_semantic_preset=False)
    assert semantic is None and backbone.get_config()["encoder_dimensions"] == [[16], [32], [48]]


def test_point_geometry_inputs_start_with_the_same_predictions():
    model = SemanticSegmentation3D(SparseUNet3D([[8]], [8], [[8]]), num_classes=5)
    assert not task_backbones.uses_point_geometry(model)
    sizes = {"num_points": 2000, "max_voxels": 500}
    plain = scene_voxels([TEST_SEED_OFFSET], **sizes)
    wide_data = scene_voxels([TEST_SEED_OFFSET], point_geometry=True, **sizes)
    np.testing.assert_array_equal(wide_data["voxel_features"][..., :4], plain["voxel_features"])
    assert np.abs(wide_data["voxel_features"][..., 4:]).max() > 0
    # The reference is the narrow model on colour and height alone.
    expected = model({key: plain[key] for key in INPUT_KEYS}, training=False)
    assert not task_backbones.uses_point_geometry(model)
    wide = task_backbones.add_point_geometry_inputs(model)
    assert task_backbones.uses_point_geometry(wide)
    found = wide({key: wide_data[key] for key in INPUT_KEYS}, training=False)
    np.testing.assert_allclose(found, expected, atol=1e-5)
    first_kernel = wide.backbone.weights[0].numpy()
    assert first_kernel.shape[-2] == 13 and not first_kernel[..., 4:, :].any()
