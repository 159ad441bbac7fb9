import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.losses import SemanticCrossEntropy3D
from keras_suite.metrics import MeanIoU3D
from keras_suite.ops import voxelize
from keras_suite.testing import TestCase
from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D

from .scene_inputs import preset_inputs


def voxel_inputs(seed, batch=2, num_voxels=80, extent=10):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.choice(extent**3, num_voxels, replace=False) for _ in range(batch)])
    xyz = np.stack(np.unravel_index(xyz, (extent,) * 3), -1).astype("int32")
    inputs = {
        "voxel_features": rng.normal(size=(batch, num_voxels, 3)).astype("float32"),
        "voxel_xyz_indices": xyz,
        "num_valid_voxels": np.array([num_voxels, num_voxels // 2], "int32"),
    }
    labels = (inputs["voxel_features"][..., 0] > 0).astype("int32") + (xyz[..., 2] > 4)
    labels[1, num_voxels // 2 :] = -1
    return inputs, labels


def small_model():
    return SemanticSegmentation3D(SparseUNet3D([[8], [16]], [16], [[16], [8]]), num_classes=3)


class SemanticSegmentation3DTest(TestCase):
    def test_head_on_backbone(self):
        inputs, _ = voxel_inputs(0)
        model = small_model()
        logits = ops.convert_to_numpy(model(inputs))
        features = ops.convert_to_numpy(model.backbone(inputs))
        kernel, bias = model.head.get_weights()
        expected = features @ kernel[0, 0, 0] + bias
        self.assertAllClose(logits[0], expected[0], atol=1e-5)
        self.assertAllClose(logits[1, :40], expected[1, :40], atol=1e-5)
        self.assertTrue(np.all(logits[1, 40:] == 0))

    @pytest.mark.slow
    def test_fit_saving_and_preset(self):
        inputs, labels = voxel_inputs(1)
        model = small_model()
        model.compile(
            optimizer=keras.optimizers.Adam(0.01),
            loss=SemanticCrossEntropy3D(),
            metrics=[MeanIoU3D(3)],
        )
        self.run_fit_smoke_test(model, inputs, labels, epochs=6, batch_size=2, min_decrease=0.2)
        self.run_model_saving_test(model, (inputs,), atol=1e-5)
        folder = self.get_temp_dir()
        model.save_to_preset(folder, metadata={"metrics": {"miou": 0.5}})
        loaded = SemanticSegmentation3D.from_preset(folder)
        self.assertAllClose(loaded(inputs), model(inputs), atol=1e-5)

    def test_predict_points_maps_back_through_voxelize(self):
        rng = np.random.default_rng(2)
        points = rng.uniform(0, 1, (1, 50, 3)).astype("float32")
        voxels = voxelize(points, points, np.array([40], "int32"), 0.25, 64)
        inputs = {
            "voxel_features": voxels.voxel_features,
            "voxel_xyz_indices": voxels.voxel_xyz_indices,
            "num_valid_voxels": voxels.num_valid_voxels,
        }
        model = small_model()
        voxel_labels = ops.convert_to_numpy(model(inputs)).argmax(-1)
        point_labels = ops.convert_to_numpy(model.predict_points(inputs, voxels.point_to_voxel))
        p2v = ops.convert_to_numpy(voxels.point_to_voxel)
        expected = np.where(p2v >= 0, voxel_labels[0][np.maximum(p2v, 0)], -1)
        self.assertAllEqual(point_labels, expected)

    def test_bad_backbone(self):
        with pytest.raises(ValueError, match="backbone"):
            SemanticSegmentation3D(keras.layers.Dense(3), num_classes=3)

    def test_shipped_preset_gives_the_tensorflow_outputs(self):
        # Computed once under TensorFlow by loading the preset and printing its outputs on
        # `preset_inputs` (KERAS_BACKEND=tensorflow): the first 3 voxels' first 4 channels and
        # the sum of absolute values over all voxels.
        logits = SemanticSegmentation3D.from_preset("synthetic_scenes_semantic")(preset_inputs(13))
        logits = ops.convert_to_numpy(logits)
        expected = [
            [2.00884, 3.92257, -2.8242, -3.8675],
            [0.27263, 3.47948, -1.87861, -3.03513],
            [1.37622, 2.51865, -2.03724, -2.59618],
        ]
        self.assertAllClose(logits[0, :3, :4], np.array(expected), atol=1e-4, rtol=0)
        self.assertAllClose(np.abs(logits).sum(), 510.53503, atol=0, rtol=1e-5)
        self.assertTrue(np.all(logits[0, 36:] == 0))
