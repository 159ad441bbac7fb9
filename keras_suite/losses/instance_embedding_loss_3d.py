"""Discriminative metric-learning loss for per-voxel instance embeddings."""

import keras
from keras import ops


def _safe_norm(x, axis=-1):
    # The gradient of sqrt at 0 is infinite; clamping keeps it finite (and zero below the clamp).
    return ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis), 1e-12))


def _instance_slots(labels, keep):
    """Numbers the distinct kept ids of each scene 0, 1, ... in increasing order of id.

    Args:
        labels: int32 tensor (batch, num_voxels).
        keep: bool tensor (batch, num_voxels), False on ignored voxels.

    Returns:
        An int32 tensor (batch, num_voxels): the slot of each voxel's instance (meaningless
        where `keep` is False).
    """
    keys = ops.where(keep, labels, 2**31 - 1)
    order = ops.argsort(keys, axis=1)
    sorted_keys = ops.take_along_axis(keys, order, axis=1)
    sorted_keep = ops.take_along_axis(keep, order, axis=1)
    changed = sorted_keys[:, 1:] != sorted_keys[:, :-1]
    is_new = ops.concatenate([ops.ones_like(changed[:, :1]), changed], axis=1) & sorted_keep
    sorted_slots = ops.cumsum(ops.cast(is_new, "int32"), axis=1) - 1
    return ops.take_along_axis(sorted_slots, ops.argsort(order, axis=1), axis=1)


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
    Computed in float32, with static shapes (so it runs under `jax.jit`): each scene holds at
    most `max_instances` instance slots, filled by increasing instance id; the instances of a
    scene past the first `max_instances` are left out of the loss, like ignored voxels. The
    push term costs memory `batch * max_instances**2 * embedding_dim`.

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
        max_instances: int, the most instances per scene that the loss sees.
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
        max_instances=256,
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
        if not isinstance(max_instances, int) or max_instances < 1:
            raise ValueError(
                f"`max_instances` must be a positive int. Received: max_instances={max_instances!r}"
            )
        self.pull_margin = pull_margin
        self.push_margin = push_margin
        self.pull_weight = pull_weight
        self.push_weight = push_weight
        self.regularization_weight = regularization_weight
        self.ignore_label = ignore_label
        self.max_instances = max_instances

    def call(self, y_true, y_pred):
        embeddings = ops.cast(y_pred, "float32")
        labels = ops.convert_to_tensor(y_true)
        if len(embeddings.shape) == 3 and len(labels.shape) == 3 and labels.shape[-1] == 1:
            labels = ops.squeeze(labels, axis=-1)
        if len(embeddings.shape) != 3 or len(labels.shape) != 2:
            raise ValueError(
                "`y_pred` must be embeddings of shape (batch, num_voxels, embedding_dim) and "
                "`y_true` instance ids of shape (batch, num_voxels). Received: "
                f"y_true.shape={tuple(labels.shape)}, y_pred.shape={tuple(embeddings.shape)}"
            )
        labels = ops.cast(labels, "int32")
        num_voxels = labels.shape[1]
        slots = self.max_instances if num_voxels is None else min(self.max_instances, num_voxels)
        keep = labels != self.ignore_label
        slot = _instance_slots(labels, keep)
        # membership[b, i, k]: voxel i of scene b belongs to the instance in slot k.
        membership = ops.logical_and(
            slot[..., None] == ops.arange(slots, dtype="int32"), keep[..., None]
        )
        membership = ops.cast(membership, "float32")
        counts = ops.sum(membership, axis=1)
        present = ops.cast(counts > 0, "float32")
        means = (
            ops.einsum("bik,bid->bkd", membership, embeddings) / ops.maximum(counts, 1.0)[..., None]
        )

        voxel_means = ops.einsum("bik,bkd->bid", membership, means)
        distance = _safe_norm(embeddings - voxel_means)
        pull = ops.square(ops.relu(distance - self.pull_margin))
        pull = ops.einsum("bik,bi->bk", membership, pull) / ops.maximum(counts, 1.0)

        pair_distance = _safe_norm(means[:, :, None, :] - means[:, None, :, :])
        pair_hinge = ops.square(ops.relu(2.0 * self.push_margin - pair_distance))
        different = present[:, :, None] * present[:, None, :] * (1.0 - ops.eye(slots))
        push = ops.sum(pair_hinge * different, axis=(1, 2))
        regularizer = _safe_norm(means) * present

        instances = ops.sum(present, axis=1)
        pairs = instances * (instances - 1.0)
        scene_loss = (
            self.pull_weight * ops.sum(pull, axis=1)
            + self.regularization_weight * ops.sum(regularizer, axis=1)
        ) / ops.maximum(instances, 1.0) + self.push_weight * push / ops.maximum(pairs, 1.0)
        scenes_with_instances = ops.sum(ops.cast(instances > 0, "float32"))
        return ops.sum(scene_loss) / ops.maximum(scenes_with_instances, 1.0)

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
                "max_instances": self.max_instances,
            }
        )
        return config
