import numpy as np
import pytest

from keras_suite.ops import group_instances
from keras_suite.testing import TestCase


def reference_grouping(embeddings, scores, num_valid, things, radius, min_score, min_size, limit):
    """The greedy grouping of one scene written as explicit loops."""
    num_voxels = len(embeddings)
    pool = []
    for i in range(num_valid):
        label = int(np.argmax(scores[i]))
        if label in things and scores[i, label] >= min_score:
            pool.append(i)
    ids = [-1] * num_voxels
    classes, instance_scores = [], []
    while pool and len(classes) < limit:
        seed = pool[0]
        for i in pool:
            if scores[i].max() > scores[seed].max():
                seed = i
        members = [
            i for i in pool if np.sqrt(np.sum((embeddings[i] - embeddings[seed]) ** 2)) <= radius
        ]
        pool = [i for i in pool if i not in members]
        if len(members) < min_size:
            continue
        votes = {}
        for i in members:
            label = int(np.argmax(scores[i]))
            votes[label] = votes.get(label, 0) + 1
        label = min(c for c in votes if votes[c] == max(votes.values()))
        for i in members:
            ids[i] = len(classes)
        classes.append(label)
        instance_scores.append(sum(scores[i, label] for i in members) / len(members))
    return ids, classes, instance_scores


class GroupInstancesTest(TestCase):
    def test_hand_worked_scene(self):
        # Two tight clusters of class 1 or 2, a far class-1 singleton, floor (class 0), a
        # low-score voxel and a padding row.
        embeddings = np.array(
            [[[0, 0], [0.3, 0], [0, 0.4], [4, 4], [4.2, 4], [9, 0], [0, 0], [4, 4.1], [0, 0]]],
            "float32",
        )
        scores = np.array(
            [
                [
                    [0.1, 0.6, 0.3],  # 0: class 1, 0.6
                    [0.0, 0.9, 0.1],  # 1: class 1, 0.9 -> first seed
                    [0.1, 0.2, 0.7],  # 2: class 2, joins seed 1 (0.5 away)
                    [0.2, 0.0, 0.8],  # 3: class 2, 0.8 -> second seed
                    [0.1, 0.1, 0.8],  # 4: class 2, joins seed 3 (0.2 away)
                    [0.3, 0.65, 0.05],  # 5: class 1, 0.65 -> third seed, alone
                    [0.9, 0.05, 0.05],  # 6: class 0 (floor): never a candidate
                    [0.1, 0.1, 0.35],  # 7: class... 0.35 below min_score 0.4
                    [0.0, 1.0, 0.0],  # 8: padding row
                ]
            ],
            "float32",
        )
        found = group_instances(
            embeddings, scores, np.array([8], "int32"), [1, 2], radius=1.0, min_score=0.4
        )
        self.assertAllEqual(found.instance_ids, np.array([[0, 0, 0, 1, 1, 2, -1, -1, -1]]))
        self.assertAllEqual(found.num_instances, np.array([3]))
        self.assertAllEqual(found.instance_classes[0, :4], np.array([1, 2, 1, -1]))
        self.assertAllClose(
            found.instance_scores[0, :4],
            np.array([(0.6 + 0.9 + 0.2) / 3, 0.8, 0.65, 0.0]),
            atol=1e-6,
        )
        found = group_instances(
            embeddings, scores, np.array([8], "int32"), [1, 2], 1.0, 0.4, min_instance_size=2
        )
        self.assertAllEqual(found.instance_ids, np.array([[0, 0, 0, 1, 1, -1, -1, -1, -1]]))
        self.assertAllEqual(found.instance_classes[0, :3], np.array([1, 2, -1]))
        found = group_instances(
            embeddings, scores, np.array([8], "int32"), [1, 2], 1.0, 0.4, max_instances=1
        )
        self.assertAllEqual(found.instance_ids, np.array([[0, 0, 0, -1, -1, -1, -1, -1, -1]]))
        self.assertEqual(found.instance_classes.shape, (1, 1))

    def test_matches_brute_force_loops(self):
        rng = np.random.default_rng(0)
        embeddings = rng.normal(0, 2.0, (3, 60, 3)).astype("float32")
        scores = rng.dirichlet(np.ones(4), (3, 60)).astype("float32")
        num_valid = np.array([60, 35, 0], "int32")
        for radius, min_score, min_size, limit in ((1.5, 0.3, 1, 64), (2.5, 0.0, 3, 4)):
            found = group_instances(
                embeddings, scores, num_valid, [1, 2, 3], radius, min_score, min_size, limit
            )
            for i in range(3):
                ids, classes, instance_scores = reference_grouping(
                    embeddings[i],
                    scores[i],
                    num_valid[i],
                    [1, 2, 3],
                    radius,
                    min_score,
                    min_size,
                    limit,
                )
                self.assertAllEqual(found.instance_ids[i], np.array(ids))
                self.assertEqual(int(found.num_instances[i]), len(classes))
                self.assertAllEqual(
                    found.instance_classes[i, : len(classes)], np.array(classes, "int32")
                )
                self.assertAllClose(
                    found.instance_scores[i, : len(classes)], np.array(instance_scores), atol=1e-5
                )
                self.assertTrue(np.all(found.instance_classes[i, len(classes) :] == -1))

    def test_bad_input(self):
        embeddings = np.zeros((1, 4, 2), "float32")
        scores = np.full((1, 4, 3), 1 / 3, "float32")
        num_valid = np.array([4], "int32")
        with pytest.raises(ValueError, match="`embeddings`"):
            group_instances(embeddings[0], scores, num_valid, [1], 1.0)
        with pytest.raises(ValueError, match="`semantic_scores`"):
            group_instances(embeddings, scores[:, :3], num_valid, [1], 1.0)
        with pytest.raises(ValueError, match="`num_valid_voxels`"):
            group_instances(embeddings, scores, np.array([5], "int32"), [1], 1.0)
        with pytest.raises(ValueError, match="`thing_classes`"):
            group_instances(embeddings, scores, num_valid, [3], 1.0)
        with pytest.raises(ValueError, match="`radius`"):
            group_instances(embeddings, scores, num_valid, [1], 0.0)
