"""Discriminative metric-learning loss for per-voxel instance embeddings."""

import keras
import tensorflow as tf


def _safe_norm(x, axis=-1):
    # The gradient of sqrt at 0 is infinite; clamping keeps it finite (and zero below the clamp).
    return tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(x), axis=axis), 1e-12))


@keras.saving.register_keras_serializable(package="keras_suite")
class InstanceEmbeddingLoss3D(keras.losses.Loss):
    """Pulls voxel embeddings to their instance's mean and pushes instance means apart.

    The discriminative loss of De Brabandere et al. (2017), "Semantic Instance Segmentation with
    a Discriminative Loss Function", used here for TensorFlow 3D's instance segmentation
    pipeline. Per scene, with instance means `mu_c` over the voxels `i` of instance `c`:

    - pull (variance) term: the mean over instances of the mean over their voxels of
      `max(0, |mu_c - e_i| - pull_margin) ** 2`;
    - push (distance) term: the mean over ordered pairs of different instances of
      `max(0, 2 * push_margin - |mu_a - mu_b|) ** 2` (0 for scenes with one instance);
    - regularizer: the mean over instances of `|mu_c|`.

    The loss is `pull_weight * pull + push_weight * push + regularization_weight * reg`,
    averaged over the scenes of the batch that hold at least one instance (0 if none does).
    After training, voxels of one instance lie within `pull_margin` of its mean and means are
    `2 * push_margin` apart, so a grouping radius between `2 * pull_margin` and
    `2 * (push_margin - pull_margin)` separates the instances
    (`keras_suite.ops.group_instances`). Instance ids are only compared within a scene.
    Computed in float32.

    Args:
        pull_margin: float, the distance from its instance mean below which a voxel costs
            nothing (the paper's delta_v).
        push_margin: float, half the distance between instance means above which a pair costs
            nothing (the paper's delta_d).
        pull_weight: weight of the pull term.
        push_weight: weight of the push term.
        regularization_weight: weight of the regularizer.
        ignore_label: instance id of voxels that belong to no instance (padding, floor,
            walls); they do not count.
        name: name of the loss.
        **kwargs: base `keras.losses.Loss` arguments.

    Call arguments:
        y_true: int tensor (batch, num_voxels) of instance ids (any non-negative ints, unique
            within a scene) or `ignore_label`.
        y_pred: float tensor (batch, num_voxels, embedding_dim), the embeddings.

    Returns:
        A scalar.

    Example:

    ```python
    loss = keras_suite.losses.InstanceEmbeddingLoss3D(pull_margin=0.5, push_margin=1.5)
    embeddings = np.array([[[0.0], [2.0], [10.0], [10.0]]], "float32")
    ids = np.array([[1, 1, 2, 2]])
    # pull: instance 1 has mean 1, both voxels 1 away: (1 - 0.5)**2 / 2 instances = 0.125
    # push: means 9 apart > 3: 0; regularizer: (1 + 10) / 2 = 5.5, times 0.001
    loss(ids, embeddings)  # 0.1305
    ```
    """

    def __init__(
        self,
        pull_margin=0.5,
        push_margin=1.5,
        pull_weight=1.0,
        push_weight=1.0,
        regularization_weight=0.001,
        ignore_label=-1,
        name="instance_embedding_loss_3d",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        for arg, value in (("pull_margin", pull_margin), ("push_margin", push_margin)):
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(f"`{arg}` must be a non-negative float. Received: {arg}={value!r}")
        if push_margin <= pull_margin:
            raise ValueError(
                "`push_margin` must be larger than `pull_margin`, otherwise the pushed means "
                "can not clear the pulled voxels. Received: "
                f"pull_margin={pull_margin!r}, push_margin={push_margin!r}"
            )
        self.pull_margin = pull_margin
        self.push_margin = push_margin
        self.pull_weight = pull_weight
        self.push_weight = push_weight
        self.regularization_weight = regularization_weight
        self.ignore_label = ignore_label

    def call(self, y_true, y_pred):
        embeddings = tf.cast(y_pred, tf.float32)
        labels = tf.cast(y_true, tf.int64)
        if embeddings.shape.rank == 3 and labels.shape.rank == 3 and labels.shape[-1] == 1:
            labels = tf.squeeze(labels, axis=-1)
        if embeddings.shape.rank != 3 or labels.shape.rank != 2:
            raise ValueError(
                "`y_pred` must be embeddings of shape (batch, num_voxels, embedding_dim) and "
                "`y_true` instance ids of shape (batch, num_voxels). Received: "
                f"y_true.shape={labels.shape}, y_pred.shape={embeddings.shape}"
            )
        batch = tf.shape(labels)[0]
        dim = tf.shape(embeddings)[-1]
        scene = tf.repeat(tf.range(batch, dtype=tf.int64), tf.shape(labels)[1])
        labels = tf.reshape(labels, [-1])
        keep = labels != self.ignore_label
        # One key per (scene, instance id): instance ids of different scenes never meet.
        keys = tf.boolean_mask(scene * (2**32) + (labels + 2**31), keep)
        vectors = tf.boolean_mask(tf.reshape(embeddings, [-1, dim]), keep)
        voxel_scene = tf.boolean_mask(scene, keep)
        unique_keys, instance = tf.unique(keys)
        num_instances = tf.size(unique_keys)
        counts = tf.math.unsorted_segment_sum(
            tf.ones_like(keys, tf.float32), instance, num_instances
        )
        means = tf.math.unsorted_segment_sum(vectors, instance, num_instances) / counts[:, None]
        instance_scene = tf.math.unsorted_segment_max(voxel_scene, instance, num_instances)

        distance = _safe_norm(vectors - tf.gather(means, instance))
        pull = tf.square(tf.nn.relu(distance - self.pull_margin))
        pull = tf.math.unsorted_segment_sum(pull, instance, num_instances) / counts

        pair_distance = _safe_norm(means[:, None, :] - means[None, :, :])
        pair_hinge = tf.square(tf.nn.relu(2.0 * self.push_margin - pair_distance))
        different = tf.logical_and(
            instance_scene[:, None] == instance_scene[None, :],
            ~tf.eye(num_instances, dtype=tf.bool),
        )
        push = tf.reduce_sum(tf.where(different, pair_hinge, 0.0), axis=1)
        regularizer = _safe_norm(means)

        def per_scene(values):
            return tf.math.unsorted_segment_sum(values, instance_scene, batch)

        instances_per_scene = per_scene(tf.ones_like(counts))
        pairs_per_scene = instances_per_scene * (instances_per_scene - 1.0)
        scene_loss = (
            self.pull_weight * per_scene(pull) + self.regularization_weight * per_scene(regularizer)
        ) / tf.maximum(instances_per_scene, 1.0) + self.push_weight * per_scene(push) / tf.maximum(
            pairs_per_scene, 1.0
        )
        scenes_with_instances = tf.reduce_sum(tf.cast(instances_per_scene > 0, tf.float32))
        return tf.reduce_sum(scene_loss) / tf.maximum(scenes_with_instances, 1.0)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pull_margin": self.pull_margin,
                "push_margin": self.push_margin,
                "pull_weight": self.pull_weight,
                "push_weight": self.push_weight,
                "regularization_weight": self.regularization_weight,
                "ignore_label": self.ignore_label,
            }
        )
        return config
