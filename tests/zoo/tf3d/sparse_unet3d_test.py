import warnings
from unittest import mock

import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.layers import SparseMaxPool3D, SparseUnpool3D
from keras_suite.testing import TestCase
from keras_suite.zoo import SparseUNet3D
from keras_suite.zoo.tf3d import sparse_unet3d


def voxel_inputs(seed, batch=2, num_voxels=80, extent=10, channels=4):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.choice(extent**3, num_voxels, replace=False) for _ in range(batch)])
    xyz = np.stack(np.unravel_index(xyz, (extent,) * 3), -1).astype("int32")
    return {
        "voxel_features": rng.normal(size=(batch, num_voxels, channels)).astype("float32"),
        "voxel_xyz_indices": xyz,
        "num_valid_voxels": np.array([num_voxels, num_voxels // 2], "int32")[:batch],
    }


class SparseUNet3DTest(TestCase):
    def test_matches_manual_composition_of_layers(self):
        inputs = voxel_inputs(0)
        model = SparseUNet3D([[5]], [6], [[3]], use_batch_norm=False)
        out = model(inputs)
        (enc, _), (mid, _), (dec, _) = (
            model.encoder_blocks[0][0],
            model.bottleneck_block[0],
            model.decoder_blocks[0][0],
        )
        features, xyz, num_valid = (
            inputs["voxel_features"],
            inputs["voxel_xyz_indices"],
            inputs["num_valid_voxels"],
        )
        skip = enc(features, xyz, num_valid)
        pooled, pooled_xyz, pooled_valid, parent = SparseMaxPool3D()(skip, xyz, num_valid)
        deep = mid(pooled, pooled_xyz, pooled_valid)
        up = SparseUnpool3D()(deep, parent)
        expected = dec(ops.concatenate([up, skip], axis=-1), xyz, num_valid)
        self.assertAllClose(out, expected, atol=1e-5)
        self.assertEqual(enc.activation.__name__, "relu")

    def test_kernel_map_built_once_per_level(self):
        inputs = voxel_inputs(1)
        model = SparseUNet3D([[4, 4], [6, 6]], [8, 8], [[6, 6], [4, 4]])
        with mock.patch.object(
            sparse_unet3d, "build_kernel_map", wraps=sparse_unet3d.build_kernel_map
        ) as spy:
            model(inputs)
        self.assertEqual(spy.call_count, 3)

    def test_padding_rows_are_zero_and_shape(self):
        inputs = voxel_inputs(2)
        model = SparseUNet3D([[4], [6]], [8], [[6], [5]])
        out = ops.convert_to_numpy(model(inputs, training=True))
        self.assertEqual(out.shape, (2, 80, 5))
        self.assertTrue(np.all(out[1, 40:] == 0))

    @pytest.mark.slow
    def test_saving_fit_and_preset(self):
        inputs = voxel_inputs(3)
        model = SparseUNet3D([[4], [6]], [8], [[6], [2]])
        model(inputs)
        restored = self.run_model_saving_test(model, (inputs,), atol=1e-5)
        self.assertEqual(restored.get_config(), model.get_config())
        # Eager keeps this test fast; graph-mode fit is covered by SemanticSegmentation3D's test.
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", run_eagerly=True)
        target = np.tanh(inputs["voxel_features"][..., :2])
        self.run_fit_smoke_test(model, inputs, target, epochs=4, batch_size=2)
        folder = self.get_temp_dir()
        model.save_to_preset(folder)
        loaded = SparseUNet3D.from_preset(folder)
        self.assertAllClose(loaded(inputs), model(inputs), atol=1e-5)

    def test_bad_config_and_inputs(self):
        with pytest.raises(ValueError, match="decoder_dimensions"):
            SparseUNet3D([[4], [6]], [8], [[4]])
        with pytest.raises(ValueError, match="encoder_dimensions"):
            SparseUNet3D("abc", [8], [[4]])
        with pytest.raises(ValueError, match="Inputs must be a dict"):
            SparseUNet3D([[4]], [8], [[4]])(np.zeros((1, 3, 3), "float32"))


@pytest.mark.parametrize("task", ["semantic", "instance", "detection"])
def test_compiled_task_models_save_and_load_compiled(tmp_path, task):
    from keras_suite.zoo import InstanceSegmentation3D, ObjectDetection3D, SemanticSegmentation3D

    backbone = SparseUNet3D([[4]], [4], [[4]])
    model = {
        "semantic": lambda: SemanticSegmentation3D(backbone, num_classes=3),
        "instance": lambda: InstanceSegmentation3D(backbone, num_classes=3, embedding_dim=2),
        "detection": lambda: ObjectDetection3D(backbone, num_classes=2, voxel_size=0.1),
    }[task]()
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    inputs = voxel_inputs(1)
    expected = model(inputs)
    model.optimizer.build(model.trainable_variables)  # as training leaves it
    model.optimizer.iterations.assign(5)
    path = str(tmp_path / "model.keras")
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when it cannot compile a loaded model
        loaded = keras.saving.load_model(path)
    assert loaded.compiled and int(ops.convert_to_numpy(loaded.optimizer.iterations)) == 5
    assert float(ops.convert_to_numpy(loaded.optimizer.learning_rate)) == pytest.approx(2e-3)
    assert type(loaded.loss) is type(model.loss)
    for a, b in zip(keras.tree.flatten(loaded(inputs)), keras.tree.flatten(expected)):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-6)
