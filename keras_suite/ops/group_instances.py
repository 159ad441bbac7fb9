"""Greedy grouping of per-voxel embeddings into instances (TensorFlow 3D's inference step)."""

import collections

import numpy as np
import tensorflow as tf

Instances = collections.namedtuple(
    "Instances", ["instance_ids", "instance_classes", "instance_scores", "num_instances"]
)


def _check(condition, message):
    if not condition:
        raise ValueError(message)


@tf.function(reduce_retracing=True)
def _group_scene(embeddings, scores, num_valid, thing_mask, radius, min_score, min_size, limit):
    num_voxels = tf.shape(embeddings)[0]
    num_classes = tf.shape(scores)[1]
    classes = tf.argmax(scores, axis=-1, output_type=tf.int32)
    best = tf.reduce_max(scores, axis=-1)
    candidate = (
        (tf.range(num_voxels) < num_valid) & tf.gather(thing_mask, classes) & (best >= min_score)
    )
    neg_inf = tf.fill([num_voxels], -np.inf)

    def body(k, ids, consumed, out_classes, out_scores):
        available = candidate & ~consumed
        seed = tf.argmax(tf.where(available, best, neg_inf), output_type=tf.int32)
        distance2 = tf.reduce_sum(tf.square(embeddings - embeddings[seed]), axis=-1)
        members = available & (distance2 <= radius * radius)
        size = tf.reduce_sum(tf.cast(members, tf.int32))
        votes = tf.math.unsorted_segment_sum(tf.cast(members, tf.int32), classes, num_classes)
        label = tf.argmax(votes, output_type=tf.int32)
        score = tf.reduce_sum(tf.where(members, scores[:, label], 0.0)) / tf.cast(
            size, scores.dtype
        )
        keep = size >= min_size
        ids = tf.where(members & keep, k, ids)
        out_classes = tf.where(keep & (tf.range(limit) == k), label, out_classes)
        out_scores = tf.where(keep & (tf.range(limit) == k), score, out_scores)
        return k + tf.cast(keep, tf.int32), ids, consumed | members, out_classes, out_scores

    def cond(k, ids, consumed, out_classes, out_scores):
        return (k < limit) & tf.reduce_any(candidate & ~consumed)

    k, ids, _, out_classes, out_scores = tf.while_loop(
        cond,
        body,
        (
            tf.constant(0),
            tf.fill([num_voxels], -1),
            tf.zeros([num_voxels], tf.bool),
            tf.fill([limit], -1),
            tf.zeros([limit], scores.dtype),
        ),
    )
    return ids, out_classes, out_scores, k


def group_instances(
    embeddings,
    semantic_scores,
    num_valid_voxels,
    thing_classes,
    radius,
    min_score=0.0,
    min_instance_size=1,
    max_instances=64,
):
    """Groups voxels into instances by greedy seeding in embedding space.

    TensorFlow 3D's instance inference: a voxel is a candidate when it is valid, its most
    likely class is one of `thing_classes` and that class's score is at least `min_score`.
    Then, until no candidate is left or `max_instances` instances are found: the candidate with
    the highest score is the seed (the first in row order on ties); every remaining candidate
    whose embedding lies within `radius` (Euclidean) of the seed's joins its instance and
    leaves the pool. So each seed lies farther than `radius` from every earlier seed. An
    instance's class is the most common predicted class among its voxels (the smallest id on
    ties) and its score the mean of its voxels' scores for that class. A group smaller than
    `min_instance_size` voxels is dropped (its voxels stay unassigned) and gets no id. Each
    scene runs as one compiled `tf.while_loop`; the batch size must be static (call it eagerly,
    as `InstanceSegmentation3D.predict_instances` does).

    Args:
        embeddings: float tensor (batch, num_voxels, embedding_dim).
        semantic_scores: float tensor (batch, num_voxels, num_classes) of class probabilities.
        num_valid_voxels: int32 tensor (batch,); rows at or past it are padding.
        thing_classes: list of the class ids that form instances (e.g. furniture, not floor).
        radius: positive float, the embedding distance within which voxels join a seed.
        min_score: float, the lowest class score of a candidate voxel.
        min_instance_size: int, the fewest voxels of a kept instance.
        max_instances: int, the most instances per scene.

    Returns:
        An `Instances` named tuple: `instance_ids` int32 (batch, num_voxels), the instance of
        each voxel or -1; `instance_classes` int32 (batch, max_instances), -1 on unused slots;
        `instance_scores` float32 (batch, max_instances), 0 on unused slots; `num_instances`
        int32 (batch,). Instances are numbered in the order their seeds were picked.

    Example:

    ```python
    embeddings = np.array([[[0.0], [0.2], [5.0], [5.1], [9.0]]], "float32")
    scores = np.array([[[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6], [0.9, 0.1]]], "float32")
    found = keras_suite.ops.group_instances(
        embeddings, scores, np.array([5], "int32"), thing_classes=[1], radius=1.0
    )
    # found.instance_ids [[0, 0, 1, 1, -1]]: voxel 4 is class 0, not a thing class
    # found.instance_classes [[1, 1, -1, ...]], found.instance_scores [[0.85, 0.65, 0, ...]]
    ```
    """
    embeddings = tf.convert_to_tensor(embeddings)
    scores = tf.convert_to_tensor(semantic_scores)
    num_valid = tf.convert_to_tensor(num_valid_voxels)
    _check(
        embeddings.dtype.is_floating and embeddings.shape.rank == 3,
        "`embeddings` must be a float tensor of shape (batch, num_voxels, embedding_dim). "
        f"Received: dtype={embeddings.dtype.name}, shape={embeddings.shape}",
    )
    _check(
        scores.dtype.is_floating
        and scores.shape.rank == 3
        and tuple(scores.shape[:2]) == tuple(embeddings.shape[:2]),
        "`semantic_scores` must be a float tensor of shape (batch, num_voxels, num_classes) "
        "matching `embeddings`. Received: "
        f"dtype={scores.dtype.name}, shape={scores.shape}, embeddings.shape={embeddings.shape}",
    )
    _check(
        num_valid.dtype.is_integer and num_valid.shape.rank == 1,
        "`num_valid_voxels` must be an int tensor of shape (batch,). Received: "
        f"dtype={num_valid.dtype.name}, shape={num_valid.shape}",
    )
    num_voxels, num_classes = embeddings.shape[1], scores.shape[2]
    counts = num_valid.numpy() if tf.executing_eagerly() else None
    _check(
        counts is None or num_voxels is None or np.all((counts >= 0) & (counts <= num_voxels)),
        f"`num_valid_voxels` must lie in [0, num_voxels={num_voxels}]. Received: "
        f"num_valid_voxels={counts}",
    )
    things = [int(c) for c in np.ravel(thing_classes)]
    _check(
        all(0 <= c < num_classes for c in things),
        f"`thing_classes` must be class ids in [0, {num_classes}). "
        f"Received: thing_classes={thing_classes!r}",
    )
    _check(radius > 0, f"`radius` must be a positive float. Received: radius={radius!r}")
    _check(
        int(max_instances) >= 1 and int(min_instance_size) >= 1,
        "`max_instances` and `min_instance_size` must be positive ints. Received: "
        f"max_instances={max_instances!r}, min_instance_size={min_instance_size!r}",
    )
    thing_mask = tf.scatter_nd(
        [[c] for c in things], tf.ones([len(things)], tf.bool), [num_classes]
    )
    embeddings = tf.cast(embeddings, tf.float32)
    scores = tf.cast(scores, tf.float32)
    results = [
        _group_scene(
            embeddings[i],
            scores[i],
            tf.cast(num_valid[i], tf.int32),
            thing_mask,
            tf.constant(radius, tf.float32),
            tf.constant(min_score, tf.float32),
            tf.constant(int(min_instance_size)),
            tf.constant(int(max_instances)),
        )
        for i in range(embeddings.shape[0])
    ]
    if not results:
        return Instances(
            tf.zeros([0, num_voxels], tf.int32),
            tf.zeros([0, max_instances], tf.int32),
            tf.zeros([0, max_instances], tf.float32),
            tf.zeros([0], tf.int32),
        )
    return Instances(*(tf.stack(parts) for parts in zip(*results)))
