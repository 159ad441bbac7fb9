"""TensorFlow 3D's 3D semantic segmentation pipeline as a Keras model."""

import os

import keras
from keras import ops

from keras_suite.layers.sparse import SparseConv3D
from keras_suite.losses.semantic_cross_entropy_3d import SemanticCrossEntropy3D
from keras_suite.metrics.mean_iou_3d import MeanIoU3D
from keras_suite.ops.voxelize import devoxelize
from keras_suite.presets.preset_mixin import PresetMixin
from keras_suite.zoo.tf3d.sparse_unet3d import (
    check_voxel_inputs,
    compile_from_saved_config,
    resolve_backbone,
)


@keras.saving.register_keras_serializable(package="keras_suite")
class SemanticSegmentation3D(PresetMixin, keras.Model):
    """Per-voxel semantic segmentation of 3D scenes: a `SparseUNet3D` and a class head.

    The semantic segmentation pipeline of TensorFlow 3D: the sparse U-Net computes per-voxel
    features and a 1x1x1 `SparseConv3D` maps them to class logits. Train it with
    `keras_suite.losses.SemanticCrossEntropy3D` (labels of padding voxels set to the ignore
    label) and measure it with `keras_suite.metrics.MeanIoU3D`; `predict_points` maps the
    predictions back to the points through `voxelize`'s point-to-voxel index.

    Args:
        backbone: a `SparseUNet3D`.
        num_classes: int, the number of semantic classes.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: dict with `voxel_features`, `voxel_xyz_indices` and `num_valid_voxels`.
        training: whether to run in training mode.

    Returns:
        Logits (batch, num_voxels, num_classes), zeros on padding rows.

    Example:

    ```python
    backbone = keras_suite.zoo.SparseUNet3D([[16], [32]], [32], [[32], [16]])
    model = keras_suite.zoo.SemanticSegmentation3D(backbone, num_classes=5)
    model.compile()  # Adam(1e-3), SemanticCrossEntropy3D and MeanIoU3D, label -1 ignored
    ```
    """

    preset_dir = os.path.join(os.path.dirname(__file__), "presets", "semantic_segmentation3d")

    def __init__(self, backbone, num_classes, **kwargs):
        super().__init__(**kwargs)
        backbone = resolve_backbone(backbone)
        self.backbone = backbone
        self.num_classes = num_classes
        self.head = SparseConv3D(num_classes, 1, dtype=self.dtype_policy, name="class_head")

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; "auto" gives the recipes' settings.

        Args:
            optimizer: "auto" for `keras.optimizers.Adam(1e-3)`, or an optimizer.
            loss: "auto" for `SemanticCrossEntropy3D(ignore_label=-1)`, or a loss.
            metrics: "auto" for `[MeanIoU3D(num_classes, ignore_label=-1)]`, or a list.
            **kwargs: other `keras.Model.compile` arguments.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if loss == "auto":
            loss = SemanticCrossEntropy3D(ignore_label=-1)
        if metrics == "auto":
            metrics = [MeanIoU3D(self.num_classes, ignore_label=-1)]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        compile_from_saved_config(self, config)

    def build(self, inputs_shape):
        if not self.backbone.built:
            self.backbone.build(inputs_shape)
        self.head.build((None, None, self.backbone.output_channels))
        self.built = True

    def call(self, inputs, training=None):
        check_voxel_inputs(inputs)
        features = self.backbone(inputs, training=training)
        return self.head(features, inputs["voxel_xyz_indices"], inputs["num_valid_voxels"])

    def predict_points(self, inputs, point_to_voxel):
        """Class ids of the points: the prediction of each point's voxel (-1 where unmapped).

        Args:
            inputs: the model's voxel inputs.
            point_to_voxel: int32 (batch, num_points) from `keras_suite.ops.voxelize`.

        Returns:
            int32 (batch, num_points).
        """
        labels = ops.cast(ops.argmax(self(inputs, training=False), axis=-1), "int32")
        labels = devoxelize(labels[..., None], point_to_voxel)[..., 0]
        return ops.where(ops.convert_to_tensor(point_to_voxel) >= 0, labels, -1)

    def compute_output_shape(self, inputs_shape):
        shape = inputs_shape["voxel_features"]
        return (shape[0], shape[1], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.saving.serialize_keras_object(self.backbone),
                "num_classes": self.num_classes,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
