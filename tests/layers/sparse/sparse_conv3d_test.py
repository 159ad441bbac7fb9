import warnings

import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.layers import SparseConv3D
from keras_suite.ops import build_kernel_map
from keras_suite.testing import TestCase
from keras_suite.testing.test_case import value_and_gradients


def compiled(fn):
    """`fn` compiled the way Keras compiles a train step holding a `SparseConv3D`.

    XLA on JAX, a graph on TensorFlow (the layer does not support XLA there), eager on PyTorch.
    """
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    return fn


def random_voxels(seed, batch=2, num_voxels=60, extent=6, channels=3, num_valid=(60, 37)):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.choice(extent**3, num_voxels, replace=False) for _ in range(batch)])
    xyz = np.stack(np.unravel_index(xyz, (extent,) * 3), -1).astype("int32")
    features = rng.normal(size=(batch, num_voxels, channels)).astype("float32")
    return features, xyz, np.asarray(num_valid, "int32")


def scatter(features, xyz, num_valid, extent):
    grid = np.zeros((features.shape[0], extent, extent, extent, features.shape[-1]), "float32")
    for b in range(features.shape[0]):
        for i in range(num_valid[b]):
            grid[(b, *xyz[b, i])] = features[b, i]
    return grid


def gather(grid, xyz, num_valid):
    out = np.zeros(xyz.shape[:2] + grid.shape[-1:], "float32")
    for b in range(xyz.shape[0]):
        for i in range(num_valid[b]):
            out[b, i] = grid[(b, *xyz[b, i])]
    return out


class SparseConv3DTest(TestCase):
    def test_layer_basics(self):
        features, xyz, num_valid = random_voxels(0)
        self.run_layer_test(
            SparseConv3D,
            init_kwargs={"filters": 4, "kernel_size": 3, "activation": "relu"},
            input_data=(features, xyz, num_valid),
            expected_output_shape=(2, 60, 4),
            expected_num_trainable_weights=2,
            atol=1e-5,
        )

    def test_equals_dense_conv3d_forward_and_backward(self):
        extent = 6
        features, xyz, num_valid = random_voxels(1, extent=extent)
        valid = (np.arange(60)[None] < num_valid[:, None])[..., None]
        upstream = np.cos(np.arange(5.0 * 60 * 2)).reshape(2, 60, 5).astype("float32")
        upstream_grid = scatter(upstream, xyz, num_valid, extent)
        grid = scatter(features, xyz, num_valid, extent)
        for kernel_size in (1, 3, 5):
            layer = SparseConv3D(5, kernel_size, bias_initializer="random_normal")
            dense = keras.layers.Conv3D(5, kernel_size, padding="same")
            dense.build(grid.shape)
            layer.build(features.shape)
            dense.set_weights(layer.get_weights())
            weights = [ops.convert_to_numpy(w) for w in layer.trainable_weights]

            def loss(kernel, bias, x, layer=layer):
                out, _ = layer.stateless_call([kernel, bias], [], x, xyz, num_valid)
                return ops.sum(ops.multiply(out, upstream))

            def dense_loss(kernel, bias, x, dense=dense):
                out, _ = dense.stateless_call([kernel, bias], [], x)
                return ops.sum(ops.multiply(out, upstream_grid))

            out = ops.convert_to_numpy(layer(features, xyz, num_valid))
            ref = ops.convert_to_numpy(dense(grid))
            self.assertAllClose(out, gather(ref, xyz, num_valid), atol=1e-5)
            self.assertTrue(np.all(out[~valid[..., 0]] == 0))
            _, mine = value_and_gradients(loss, weights + [features])
            _, theirs = value_and_gradients(dense_loss, weights + [grid])
            for mine_grad, their_grad in zip(mine[:2], theirs[:2]):
                self.assertAllClose(mine_grad, their_grad, atol=1e-4, rtol=1e-5)
            feature_grad = ops.convert_to_numpy(mine[2])
            grid_grad = ops.convert_to_numpy(theirs[2])
            self.assertAllClose(
                feature_grad * valid, gather(grid_grad, xyz, num_valid), atol=1e-4, rtol=1e-5
            )

    @pytest.mark.slow
    def test_shared_kernel_map_and_compiled_with_gradients(self):
        features, xyz, num_valid = random_voxels(2)
        layer = SparseConv3D(4, 3)
        layer.build(features.shape)
        weights = [ops.convert_to_numpy(w) for w in layer.trainable_weights]
        table = ops.convert_to_numpy(build_kernel_map(xyz, num_valid, 3))

        def loss_and_grads(x, kernel_map):
            def loss(kernel, bias, x):
                out, _ = layer.stateless_call(
                    [kernel, bias], [], x, xyz, num_valid, kernel_map=kernel_map
                )
                return ops.sum(ops.sin(out))

            return value_and_gradients(loss, weights + [x])

        expected = loss_and_grads(features, None)
        self.assertAllClose(loss_and_grads(features, table), expected, atol=1e-5)
        self.assertAllClose(compiled(loss_and_grads)(features, table), expected, atol=1e-4)

    @pytest.mark.slow
    def test_functional_fit_and_saving(self):
        features, xyz, num_valid = random_voxels(3)
        f_in = keras.Input((60, 3))
        xyz_in = keras.Input((60, 3), dtype="int32")
        n_in = keras.Input((), dtype="int32")
        hidden = SparseConv3D(8, 3, activation="relu")(f_in, xyz_in, n_in)
        out = SparseConv3D(2, 3)(hidden, xyz_in, n_in)
        model = keras.Model([f_in, xyz_in, n_in], out)
        target = np.tanh(features[..., :2] * 2.0)
        model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse", jit_compile=False)
        self.run_fit_smoke_test(model, [features, xyz, num_valid], target, epochs=5, batch_size=2)
        self.run_model_saving_test(model, [features, xyz, num_valid], atol=1e-5)

    def test_tensorflow_compiles_graphs_not_xla(self):
        f_in = keras.Input((60, 3))
        xyz_in = keras.Input((60, 3), dtype="int32")
        n_in = keras.Input((), dtype="int32")
        model = keras.Model([f_in, xyz_in, n_in], SparseConv3D(2, 3)(f_in, xyz_in, n_in))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TensorFlow: "Proceeding with jit_compile=False"
            model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        self.assertEqual(model.jit_compile, keras.config.backend() != "tensorflow")

    def test_bad_inputs(self):
        features, xyz, num_valid = random_voxels(4)
        with pytest.raises(ValueError, match="kernel_size"):
            SparseConv3D(4, 2)
        with pytest.raises(ValueError, match="filters"):
            SparseConv3D(0)
        layer = SparseConv3D(4, 3)
        with pytest.raises(ValueError, match="voxel_xyz_indices"):
            layer(features, xyz.astype("float32"), num_valid)
        with pytest.raises(ValueError, match="num_valid_voxels"):
            layer(features, xyz, np.array([61, 3], "int32"))
        duplicated = xyz.copy()
        duplicated[0, 1] = duplicated[0, 0]
        with pytest.raises(ValueError, match="repeat a voxel"):
            layer(features, duplicated, num_valid)
        with pytest.raises(ValueError, match="kernel_map"):
            layer(features, xyz, num_valid, kernel_map=build_kernel_map(xyz, num_valid, 5))
        layer(features, xyz, num_valid)
        with pytest.raises(ValueError, match="3 channels"):
            layer(np.concatenate([features, features], -1), xyz, num_valid)

    def test_empty_scene_gives_zeros(self):
        features, xyz, _ = random_voxels(5)
        out = SparseConv3D(4, 3, bias_initializer="ones")(features, xyz, np.array([0, 0], "int32"))
        self.assertAllEqual(out, np.zeros((2, 60, 4), "float32"))
