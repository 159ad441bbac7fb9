"""TensorFlow 3D's 3D instance segmentation pipeline as a Keras model."""

import os

import keras
import numpy as np
from keras import ops

from keras_suite.layers.sparse import SparseConv3D
from keras_suite.losses.instance_embedding_loss_3d import InstanceEmbeddingLoss3D
from keras_suite.losses.semantic_cross_entropy_3d import SemanticCrossEntropy3D
from keras_suite.ops.group_instances import Instances, group_instances
from keras_suite.ops.voxelize import devoxelize
from keras_suite.presets.preset_mixin import PresetMixin
from keras_suite.zoo.tf3d.sparse_unet3d import (
    check_voxel_inputs,
    compile_from_saved_config,
    resolve_backbone,
)


@keras.saving.register_keras_serializable(package="keras_suite")
class InstanceSegmentation3D(PresetMixin, keras.Model):
    """Per-voxel semantic scores and instance embeddings, grouped greedily into instances.

    The instance segmentation pipeline of TensorFlow 3D: a `SparseUNet3D` computes per-voxel
    features, and two 1x1x1 `SparseConv3D` heads map them to class logits and to an
    `embedding_dim`-dimensional embedding. Train the logits with
    `keras_suite.losses.SemanticCrossEntropy3D` and the embeddings with the metric-learning
    `keras_suite.losses.InstanceEmbeddingLoss3D` (voxels of one instance pulled together,
    instances pushed apart). At inference `predict_instances` groups the voxels of
    `thing_classes` greedily in embedding space (`keras_suite.ops.group_instances`: seeds by
    score, voxels within `grouping_radius` of a seed join it), giving each instance a class
    and a score; `predict_point_instances` maps them back to the points. Measure the result
    with `keras_suite.metrics.InstanceAP3D`.

    With `coordinate_scale` set, the voxel's grid position times `coordinate_scale` is added to
    the first three embedding channels, so that the head learns an offset from each voxel to
    a point shared by its instance, as in the spatial embeddings of Neven et al. (2019),
    "Instance Segmentation by Jointly Optimizing Spatial Embedding and Clustering Bandwidth":
    objects far apart are then apart in embedding space from the start. TF3D's embeddings are
    learned from the features alone (`coordinate_scale=None`).

    Args:
        backbone: a `SparseUNet3D`.
        num_classes: int, the number of semantic classes.
        embedding_dim: int, the size of the instance embedding.
        coordinate_scale: None, or a positive float: the embedding units per voxel step added
            to the first three channels (`embedding_dim` must then be at least 3).
        thing_classes: the class ids that form instances (default: all classes).
        grouping_radius: float, the embedding distance within which voxels join a seed
            (about twice the embedding loss's `pull_margin`).
        min_score: float, the lowest class probability of a voxel taking part in grouping.
        min_instance_size: int, the fewest voxels of a predicted instance.
        max_instances: int, the most instances per scene.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: dict with `voxel_features`, `voxel_xyz_indices` and `num_valid_voxels`.
        training: whether to run in training mode.

    Returns:
        A dict: `semantic_logits` (batch, num_voxels, num_classes) and `embeddings`
        (batch, num_voxels, embedding_dim), zeros on padding rows.

    Example:

    ```python
    backbone = keras_suite.zoo.SparseUNet3D([[16], [32]], [32], [[32], [16]])
    model = keras_suite.zoo.InstanceSegmentation3D(
        backbone, num_classes=5, embedding_dim=8, thing_classes=[2, 3, 4]
    )
    model.compile()  # Adam(1e-3), class cross-entropy and embedding loss, -1 ignored
    # model.fit(inputs, {"semantic_logits": voxel_classes, "embeddings": voxel_instance_ids})
    inputs = {
        "voxel_features": np.random.rand(1, 100, 4).astype("float32"),
        "voxel_xyz_indices": np.stack(
            np.unravel_index(np.random.permutation(1000)[:100], (10, 10, 10)), -1
        ).astype("int32")[None],
        "num_valid_voxels": np.array([100], "int32"),
    }
    instances = model.predict_instances(inputs)  # instance_ids (1, 100), instance_classes, ...
    ```
    """

    preset_dir = os.path.join(os.path.dirname(__file__), "presets", "instance_segmentation3d")

    def __init__(
        self,
        backbone,
        num_classes,
        embedding_dim=8,
        coordinate_scale=None,
        thing_classes=None,
        grouping_radius=1.0,
        min_score=0.3,
        min_instance_size=3,
        max_instances=32,
        **kwargs,
    ):
        super().__init__(**kwargs)
        backbone = resolve_backbone(backbone)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"`num_classes` must be a positive int. Received: num_classes={num_classes!r}"
            )
        if not isinstance(embedding_dim, int) or embedding_dim < 1:
            raise ValueError(
                f"`embedding_dim` must be a positive int. Received: embedding_dim={embedding_dim!r}"
            )
        if coordinate_scale is not None and not (coordinate_scale > 0 and embedding_dim >= 3):
            raise ValueError(
                "`coordinate_scale` must be None or a positive float, and needs "
                "`embedding_dim` >= 3. Received: "
                f"coordinate_scale={coordinate_scale!r}, embedding_dim={embedding_dim!r}"
            )
        thing_classes = list(range(num_classes)) if thing_classes is None else thing_classes
        thing_classes = [int(c) for c in thing_classes]
        if not thing_classes or any(c < 0 or c >= num_classes for c in thing_classes):
            raise ValueError(
                f"`thing_classes` must be a non-empty list of class ids in [0, {num_classes}). "
                f"Received: thing_classes={thing_classes!r}"
            )
        if not grouping_radius > 0:
            raise ValueError(
                "`grouping_radius` must be a positive float. "
                f"Received: grouping_radius={grouping_radius!r}"
            )
        self.backbone = backbone
        self.num_classes = num_classes
        self.embedding_dim = embedding_dim
        self.coordinate_scale = coordinate_scale
        self.thing_classes = thing_classes
        self.grouping_radius = grouping_radius
        self.min_score = min_score
        self.min_instance_size = min_instance_size
        self.max_instances = max_instances
        self.semantic_head = SparseConv3D(
            num_classes, 1, dtype=self.dtype_policy, name="semantic_head"
        )
        self.embedding_head = SparseConv3D(
            embedding_dim, 1, dtype=self.dtype_policy, name="embedding_head"
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; "auto" gives the recipes' settings.

        Args:
            optimizer: "auto" for `keras.optimizers.Adam(1e-3)`, or an optimizer.
            loss: "auto" for `SemanticCrossEntropy3D(ignore_label=-1)` on `semantic_logits`
                and `InstanceEmbeddingLoss3D(pull_margin=0.5, push_margin=1.5)` on
                `embeddings` (instance id -1: no instance), or a loss.
            metrics: "auto" for none, or metrics.
            **kwargs: other `keras.Model.compile` arguments.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if loss == "auto":
            loss = {
                "semantic_logits": SemanticCrossEntropy3D(ignore_label=-1),
                "embeddings": InstanceEmbeddingLoss3D(pull_margin=0.5, push_margin=1.5),
            }
        if metrics == "auto":
            metrics = None
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        compile_from_saved_config(self, config)

    def build(self, inputs_shape):
        if not self.backbone.built:
            self.backbone.build(inputs_shape)
        self.semantic_head.build((None, None, self.backbone.output_channels))
        self.embedding_head.build((None, None, self.backbone.output_channels))
        self.built = True

    def call(self, inputs, training=None):
        check_voxel_inputs(inputs)
        features = self.backbone(inputs, training=training)
        xyz, num_valid = inputs["voxel_xyz_indices"], inputs["num_valid_voxels"]
        embeddings = self.embedding_head(features, xyz, num_valid)
        if self.coordinate_scale is not None:
            position = ops.cast(xyz, embeddings.dtype) * ops.cast(
                self.coordinate_scale, embeddings.dtype
            )
            rows = ops.arange(ops.shape(position)[1], dtype="int32")[None, :]
            valid = ops.cast(rows < ops.cast(num_valid, "int32")[:, None], embeddings.dtype)
            position = ops.pad(
                position * valid[..., None], [[0, 0], [0, 0], [0, self.embedding_dim - 3]]
            )
            embeddings = embeddings + position
        return {
            "semantic_logits": self.semantic_head(features, xyz, num_valid),
            "embeddings": embeddings,
        }

    def predict_instances(self, inputs):
        """Runs the model in inference mode and groups the voxels into instances.

        Args:
            inputs: the model's voxel inputs.

        Returns:
            A `keras_suite.ops.Instances` named tuple: `instance_ids` (batch, num_voxels),
            `instance_classes` and `instance_scores` (batch, max_instances), `num_instances`.
        """
        outputs = self(inputs, training=False)
        probabilities = ops.softmax(ops.cast(outputs["semantic_logits"], "float32"), axis=-1)
        return group_instances(
            outputs["embeddings"],
            probabilities,
            inputs["num_valid_voxels"],
            self.thing_classes,
            self.grouping_radius,
            self.min_score,
            self.min_instance_size,
            self.max_instances,
        )

    def predict_point_instances(self, inputs, point_to_voxel):
        """`predict_instances` with each point given its voxel's instance (-1 where unmapped).

        Args:
            inputs: the model's voxel inputs.
            point_to_voxel: int32 (batch, num_points) from `keras_suite.ops.voxelize`.

        Returns:
            An `Instances` named tuple whose `instance_ids` are per point (batch, num_points).
        """
        found = self.predict_instances(inputs)
        point_to_voxel = np.asarray(ops.convert_to_numpy(point_to_voxel))
        ids = ops.convert_to_numpy(devoxelize(found.instance_ids[..., None], point_to_voxel))
        ids = np.where(point_to_voxel >= 0, ids[..., 0], -1)
        return Instances(ids, found.instance_classes, found.instance_scores, found.num_instances)

    def compute_output_shape(self, inputs_shape):
        shape = inputs_shape["voxel_features"]
        return {
            "semantic_logits": (shape[0], shape[1], self.num_classes),
            "embeddings": (shape[0], shape[1], self.embedding_dim),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.saving.serialize_keras_object(self.backbone),
                "num_classes": self.num_classes,
                "embedding_dim": self.embedding_dim,
                "coordinate_scale": self.coordinate_scale,
                "thing_classes": self.thing_classes,
                "grouping_radius": self.grouping_radius,
                "min_score": self.min_score,
                "min_instance_size": self.min_instance_size,
                "max_instances": self.max_instances,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
