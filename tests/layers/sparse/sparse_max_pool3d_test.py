import keras
import numpy as np
from keras import ops

from keras_suite.layers import SparseMaxPool3D
from keras_suite.testing import TestCase


def brute_force_pool(features, xyz, num_valid, pool_size, reduce):
    out = np.zeros_like(features)
    for b in range(features.shape[0]):
        groups = {}
        for i in range(num_valid[b]):
            groups.setdefault(tuple(xyz[b, i] // pool_size), []).append(features[b, i])
        for row, cell in enumerate(sorted(groups)):
            out[b, row] = reduce(np.stack(groups[cell]), axis=0)
    return out


def gradient(fn, x):
    """The gradient of the scalar `fn(x)` with respect to `x`, on any backend."""
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        return jax.grad(fn)(x)
    if backend == "torch":
        tensor = ops.convert_to_tensor(x).detach().requires_grad_(True)
        fn(tensor).backward()
        return tensor.grad
    import tensorflow as tf

    tensor = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        value = fn(tensor)
    return tape.gradient(value, tensor)


def random_voxels(seed):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.choice(512, 50, replace=False) for _ in range(2)])
    xyz = np.stack(np.unravel_index(xyz, (8, 8, 8)), -1).astype("int32")
    features = rng.normal(size=(2, 50, 3)).astype("float32")
    return features, xyz, np.array([50, 21], "int32")


class SparseMaxPool3DTest(TestCase):
    def test_layer_basics(self):
        features, xyz, num_valid = random_voxels(0)
        self.run_layer_test(
            SparseMaxPool3D,
            init_kwargs={"pool_size": 2},
            input_data=(features, xyz, num_valid),
            expected_output_shape=((2, 50, 3), (2, 50, 3), (2,), (2, 50)),
            expected_num_trainable_weights=0,
        )

    def test_matches_brute_force_with_gradient(self):
        features, xyz, num_valid = random_voxels(1)
        for pool_size in (2, 3):
            layer = SparseMaxPool3D(pool_size)
            pooled, _, _, parent = layer(features, xyz, num_valid)
            parent = ops.convert_to_numpy(parent)
            expected = brute_force_pool(features, xyz, num_valid, pool_size, np.max)
            self.assertAllClose(pooled, expected)
            # The gradient of a max reaches exactly the arg-max children.
            grad = gradient(lambda x, layer=layer: ops.sum(layer(x, xyz, num_valid)[0]), features)
            grad = ops.convert_to_numpy(grad)
            picked = features == np.take_along_axis(expected, np.maximum(parent, 0)[..., None], 1)
            valid = (np.arange(50)[None] < num_valid[:, None])[..., None]
            self.assertAllEqual(grad, (picked & valid).astype("float32"))

    def test_in_functional_model(self):
        features, xyz, num_valid = random_voxels(2)
        f_in = keras.Input((50, 3))
        xyz_in = keras.Input((50, 3), dtype="int32")
        n_in = keras.Input((), dtype="int32")
        pooled, _, _, _ = SparseMaxPool3D()(f_in, xyz_in, n_in)
        model = keras.Model([f_in, xyz_in, n_in], pooled)
        self.assertAllClose(
            model([features, xyz, num_valid]),
            brute_force_pool(features, xyz, num_valid, 2, np.max),
        )
