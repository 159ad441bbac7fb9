"""The sparse voxel U-Net backbone of TensorFlow 3D."""

import os

import keras
from keras import ops

from keras_suite.layers.sparse import (
    SparseBatchNormalization,
    SparseConv3D,
    SparseMaxPool3D,
    SparseUnpool3D,
)
from keras_suite.ops.sparse_kernel_map import build_kernel_map
from keras_suite.presets.preset_mixin import PresetMixin

INPUT_KEYS = ("voxel_features", "voxel_xyz_indices", "num_valid_voxels")


def resolve_backbone(backbone):
    """Returns `backbone` as a `SparseUNet3D`, deserializing it from its config dict if needed."""
    if isinstance(backbone, dict):
        backbone = keras.saving.deserialize_keras_object(backbone)
    if not isinstance(backbone, SparseUNet3D):
        raise ValueError(f"`backbone` must be a `SparseUNet3D`. Received: backbone={backbone!r}")
    return backbone


def compile_from_saved_config(model, config):
    """Compiles a loaded task model with the `compile()` arguments it was saved with.

    Keras' own `Model.compile_from_config` skips (with a warning) models whose `compile()` is
    overridden, as the task models' "auto" defaults are; theirs take the same arguments, so
    their `compile_from_config` calls this.

    Args:
        model: a TF3D task model.
        config: the `compile_config` of its saved config.
    """
    model.compile(**keras.saving.deserialize_keras_object(config))
    if model.built:
        model.optimizer.build(model.trainable_variables)


def check_voxel_inputs(inputs):
    """Checks that `inputs` is a dict holding the three sparse voxel tensors."""
    if not isinstance(inputs, dict) or any(key not in inputs for key in INPUT_KEYS):
        received = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise ValueError(
            f"Inputs must be a dict with keys {list(INPUT_KEYS)}. Received: {received}"
        )


def _as_lists(dimensions, name, nested):
    try:
        if nested:
            return [[int(d) for d in level] for level in dimensions]
        return [int(d) for d in dimensions]
    except (TypeError, ValueError):
        shape = "a list of lists of ints" if nested else "a list of ints"
        raise ValueError(f"`{name}` must be {shape}. Received: {name}={dimensions!r}") from None


@keras.saving.register_keras_serializable(package="keras_suite")
class SparseUNet3D(PresetMixin, keras.Model):
    """Sparse voxel U-Net: the backbone of TensorFlow 3D's three pipelines.

    An encoder of submanifold `SparseConv3D` blocks (conv, `SparseBatchNormalization` with
    momentum 0.9, ReLU)
    with `SparseMaxPool3D` (pool size 2) between resolution levels, a bottleneck at the coarsest
    level, and a decoder that unpools level by level (`SparseUnpool3D`), concatenates the
    encoder's features of that level (skip connection) and applies its own blocks. The
    neighbour table of each level is built once (`keras_suite.ops.build_kernel_map`) and shared
    by every convolution at that level, encoder and decoder alike. The defaults are TF3D's
    `SparseConvUNet` defaults. Outputs per-voxel features at the input resolution; the task
    models (`SemanticSegmentation3D`, ...) put their heads on top.

    Args:
        encoder_dimensions: list (one per level) of lists of conv widths.
        bottleneck_dimensions: list of conv widths at the coarsest level.
        decoder_dimensions: list of lists of conv widths, one per encoder level, deepest first.
        kernel_size: odd int, the convolutions' kernel size.
        use_batch_norm: whether each conv is followed by masked batch normalization.
        dropout_rate: dropout applied before each decoder level's convolutions.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: dict with `voxel_features` float (batch, num_voxels, channels),
            `voxel_xyz_indices` int32 (batch, num_voxels, 3) and `num_valid_voxels` int32
            (batch,).
        training: whether batch normalization and dropout run in training mode.

    Returns:
        A float tensor (batch, num_voxels, decoder_dimensions[-1][-1]), zeros on padding rows.

    Example:

    ```python
    backbone = keras_suite.zoo.SparseUNet3D(
        encoder_dimensions=[[16], [32]], bottleneck_dimensions=[32],
        decoder_dimensions=[[32], [16]],
    )
    features = backbone({
        "voxel_features": np.random.rand(1, 100, 3).astype("float32"),
        "voxel_xyz_indices": np.random.randint(0, 20, (1, 100, 3)).astype("int32"),
        "num_valid_voxels": np.array([0], "int32"),
    })  # (1, 100, 16)
    ```
    """

    preset_dir = os.path.join(os.path.dirname(__file__), "presets", "sparse_unet3d")

    def __init__(
        self,
        encoder_dimensions=((32, 64), (64, 128), (128, 256)),
        bottleneck_dimensions=(256, 256),
        decoder_dimensions=((256, 256), (128, 128), (64, 64)),
        kernel_size=3,
        use_batch_norm=True,
        dropout_rate=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder_dimensions = _as_lists(encoder_dimensions, "encoder_dimensions", True)
        self.bottleneck_dimensions = _as_lists(
            bottleneck_dimensions, "bottleneck_dimensions", False
        )
        self.decoder_dimensions = _as_lists(decoder_dimensions, "decoder_dimensions", True)
        if len(self.decoder_dimensions) != len(self.encoder_dimensions):
            raise ValueError(
                "`decoder_dimensions` must have one level per encoder level. Received: "
                f"{len(self.encoder_dimensions)} encoder levels and "
                f"decoder_dimensions={self.decoder_dimensions}"
            )
        self.kernel_size = kernel_size
        self.use_batch_norm = use_batch_norm
        self.dropout_rate = dropout_rate
        self.encoder_blocks = [
            self._block(dims, f"encoder_{i}") for i, dims in enumerate(self.encoder_dimensions)
        ]
        self.bottleneck_block = self._block(self.bottleneck_dimensions, "bottleneck")
        self.decoder_blocks = [
            self._block(dims, f"decoder_{i}") for i, dims in enumerate(self.decoder_dimensions)
        ]
        self.pool = SparseMaxPool3D(2, dtype=self.dtype_policy, name="pool")
        self.unpool = SparseUnpool3D(dtype=self.dtype_policy, name="unpool")
        self.dropout = keras.layers.Dropout(dropout_rate, dtype=self.dtype_policy)

    def _block(self, dimensions, name):
        layers = []
        for i, filters in enumerate(dimensions):
            conv = SparseConv3D(
                filters,
                self.kernel_size,
                use_bias=not self.use_batch_norm,
                activation=None if self.use_batch_norm else "relu",
                dtype=self.dtype_policy,
                name=f"{name}_conv_{i}",
            )
            norm = (
                SparseBatchNormalization(
                    momentum=0.9, dtype=self.dtype_policy, name=f"{name}_norm_{i}"
                )
                if self.use_batch_norm
                else None
            )
            layers.append((conv, norm))
        return layers

    @staticmethod
    def _build_block(block, channels):
        for conv, norm in block:
            conv.build((None, None, channels))
            channels = conv.filters
            if norm is not None:
                norm.build((None, None, channels))
        return channels

    def build(self, inputs_shape):
        check_voxel_inputs(inputs_shape)
        if self.built:
            return
        channels = inputs_shape["voxel_features"][-1]
        skips = []
        for block in self.encoder_blocks:
            channels = self._build_block(block, channels)
            skips.append(channels)
        channels = self._build_block(self.bottleneck_block, channels)
        for block, skip in zip(self.decoder_blocks, reversed(skips)):
            channels = self._build_block(block, channels + skip)
        self.output_channels = channels
        self.built = True

    def _run_block(self, block, features, level, training):
        xyz, num_valid, kernel_map = level
        for conv, norm in block:
            features = conv(features, xyz, num_valid, kernel_map=kernel_map)
            if norm is not None:
                features = ops.relu(norm(features, num_valid, training=training))
        return features

    def call(self, inputs, training=None):
        check_voxel_inputs(inputs)
        features = inputs["voxel_features"]
        xyz = ops.convert_to_tensor(inputs["voxel_xyz_indices"])
        num_valid = ops.convert_to_tensor(inputs["num_valid_voxels"])
        skips = []
        for block in self.encoder_blocks:
            level = (xyz, num_valid, build_kernel_map(xyz, num_valid, self.kernel_size))
            features = self._run_block(block, features, level, training)
            features_pooled, xyz, num_valid, parent = self.pool(features, level[0], level[1])
            skips.append((features, level, parent))
            features = features_pooled
        level = (xyz, num_valid, build_kernel_map(xyz, num_valid, self.kernel_size))
        features = self._run_block(self.bottleneck_block, features, level, training)
        for block, (skip, level, parent) in zip(self.decoder_blocks, reversed(skips)):
            features = self.unpool(features, parent)
            features = ops.concatenate([features, ops.cast(skip, features.dtype)], axis=-1)
            features = self.dropout(features, training=training)
            features = self._run_block(block, features, level, training)
        return features

    def compute_output_shape(self, inputs_shape):
        shape = inputs_shape["voxel_features"]
        return (shape[0], shape[1], self.decoder_dimensions[-1][-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder_dimensions": self.encoder_dimensions,
                "bottleneck_dimensions": self.bottleneck_dimensions,
                "decoder_dimensions": self.decoder_dimensions,
                "kernel_size": self.kernel_size,
                "use_batch_norm": self.use_batch_norm,
                "dropout_rate": self.dropout_rate,
            }
        )
        return config
