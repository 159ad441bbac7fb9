"""Greedy grouping of per-voxel embeddings into instances (TensorFlow 3D's inference step)."""

import collections

import numpy as np
from keras import ops

Instances = collections.namedtuple(
    "Instances", ["instance_ids", "instance_classes", "instance_scores", "num_instances"]
)


def _check(condition, message):
    if not condition:
        raise ValueError(message)


def _group_scene(embeddings, scores, num_valid, thing_mask, radius, min_score, min_size, limit):
    num_voxels, num_classes = scores.shape
    classes = np.argmax(scores, axis=-1)
    best = np.max(scores, axis=-1)
    candidate = (np.arange(num_voxels) < num_valid) & thing_mask[classes] & (best >= min_score)
    ids = np.full(num_voxels, -1, "int32")
    out_classes = np.full(limit, -1, "int32")
    out_scores = np.zeros(limit, "float32")
    count = 0
    while count < limit and candidate.any():
        seed = int(np.argmax(np.where(candidate, best, -np.inf)))
        distance2 = np.sum(np.square(embeddings - embeddings[seed]), axis=-1)
        members = candidate & (distance2 <= radius * radius)
        candidate = candidate & ~members
        size = int(members.sum())
        if size < min_size:
            continue
        label = int(np.argmax(np.bincount(classes[members], minlength=num_classes)))
        ids[members] = count
        out_classes[count] = label
        out_scores[count] = np.sum(scores[members, label]) / np.float32(size)
        count += 1
    return ids, out_classes, out_scores, np.int32(count)


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
    `min_instance_size` voxels is dropped (its voxels stay unassigned) and gets no id.

    A post-processing step whose loop runs a data-dependent number of times: it takes tensors
    or arrays of any backend, runs in NumPy (the same numbers on every backend, no compilation
    per scene size) and returns NumPy arrays. Call it on concrete values, as
    `InstanceSegmentation3D.predict_instances` does.

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
        An `Instances` named tuple of NumPy arrays: `instance_ids` int32 (batch, num_voxels),
        the instance of each voxel or -1; `instance_classes` int32 (batch, max_instances), -1 on
        unused slots; `instance_scores` float32 (batch, max_instances), 0 on unused slots;
        `num_instances` int32 (batch,). Instances are numbered in the order their seeds were picked.

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
    embeddings = np.asarray(ops.convert_to_numpy(embeddings))
    scores = np.asarray(ops.convert_to_numpy(semantic_scores))
    num_valid = np.asarray(ops.convert_to_numpy(num_valid_voxels))
    _check(
        np.issubdtype(embeddings.dtype, np.floating) and embeddings.ndim == 3,
        "`embeddings` must be a float tensor of shape (batch, num_voxels, embedding_dim). "
        f"Received: dtype={embeddings.dtype}, shape={embeddings.shape}",
    )
    _check(
        np.issubdtype(scores.dtype, np.floating)
        and scores.ndim == 3
        and scores.shape[:2] == embeddings.shape[:2],
        "`semantic_scores` must be a float tensor of shape (batch, num_voxels, num_classes) "
        "matching `embeddings`. Received: "
        f"dtype={scores.dtype}, shape={scores.shape}, embeddings.shape={embeddings.shape}",
    )
    _check(
        np.issubdtype(num_valid.dtype, np.integer) and num_valid.ndim == 1,
        "`num_valid_voxels` must be an int tensor of shape (batch,). Received: "
        f"dtype={num_valid.dtype}, shape={num_valid.shape}",
    )
    num_voxels, num_classes = embeddings.shape[1], scores.shape[2]
    _check(
        np.all((num_valid >= 0) & (num_valid <= num_voxels)),
        f"`num_valid_voxels` must lie in [0, num_voxels={num_voxels}]. Received: "
        f"num_valid_voxels={num_valid}",
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
    thing_mask = np.zeros(num_classes, bool)
    thing_mask[things] = True
    embeddings = embeddings.astype("float32")
    scores = scores.astype("float32")
    results = [
        _group_scene(
            embeddings[i],
            scores[i],
            int(num_valid[i]),
            thing_mask,
            np.float32(radius),
            np.float32(min_score),
            int(min_instance_size),
            int(max_instances),
        )
        for i in range(embeddings.shape[0])
    ]
    if not results:
        return Instances(
            np.zeros((0, num_voxels), "int32"),
            np.zeros((0, int(max_instances)), "int32"),
            np.zeros((0, int(max_instances)), "float32"),
            np.zeros((0,), "int32"),
        )
    return Instances(*(np.stack(parts) for parts in zip(*results)))
