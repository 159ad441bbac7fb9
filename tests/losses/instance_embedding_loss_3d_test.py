import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.losses import InstanceEmbeddingLoss3D
from keras_suite.testing import TestCase
from keras_suite.testing.test_case import value_and_gradients


def reference_loss(ids, embeddings, dv=0.5, dd=1.5, wa=1.0, wb=1.0, wr=0.001, ignore=-1):
    """The discriminative loss written as plain loops over scenes, instances and pairs."""
    scene_losses = []
    for labels, vectors in zip(ids, embeddings):
        instances = sorted(set(int(v) for v in labels if v != ignore))
        if not instances:
            continue
        means = {}
        pull = 0.0
        for c in instances:
            members = [vectors[i] for i in range(len(labels)) if labels[i] == c]
            mean = np.sum(members, axis=0) / len(members)
            means[c] = mean
            total = 0.0
            for e in members:
                total += max(0.0, np.sqrt(np.sum((mean - e) ** 2)) - dv) ** 2
            pull += total / len(members)
        pull /= len(instances)
        push = 0.0
        pairs = 0
        for a in instances:
            for b in instances:
                if a != b:
                    pairs += 1
                    push += max(0.0, 2 * dd - np.sqrt(np.sum((means[a] - means[b]) ** 2))) ** 2
        push = push / pairs if pairs else 0.0
        reg = sum(np.sqrt(np.sum(means[c] ** 2)) for c in instances) / len(instances)
        scene_losses.append(wa * pull + wb * push + wr * reg)
    return float(np.mean(scene_losses)) if scene_losses else 0.0


class InstanceEmbeddingLoss3DTest(TestCase):
    def test_docstring_example(self):
        loss = InstanceEmbeddingLoss3D(pull_margin=0.5, push_margin=1.5)
        embeddings = np.array([[[0.0], [2.0], [10.0], [10.0]]], "float32")
        self.assertAllClose(loss(np.array([[1, 1, 2, 2]]), embeddings), 0.1305, atol=1e-6)

    def test_matches_brute_force_loops(self):
        rng = np.random.default_rng(0)
        embeddings = rng.normal(0, 1.5, (3, 40, 4)).astype("float32")
        ids = rng.integers(-1, 5, (3, 40))
        ids[1] = np.where(ids[1] > 0, 7, -1)  # a scene with a single instance: no push term
        ids[2, :] = -1  # a scene without instances: left out of the mean
        ids[0, :5] = 1000  # large ids are fine
        for kwargs in (
            {},
            {"pull_margin": 0.2, "push_margin": 2.5, "push_weight": 2.0, "ignore_label": 3},
        ):
            loss = InstanceEmbeddingLoss3D(**kwargs)
            expected = reference_loss(
                ids,
                embeddings,
                dv=kwargs.get("pull_margin", 0.5),
                dd=kwargs.get("push_margin", 1.5),
                wb=kwargs.get("push_weight", 1.0),
                ignore=kwargs.get("ignore_label", -1),
            )
            self.assertAllClose(loss(ids, embeddings), expected, atol=1e-5, rtol=1e-5)
        self.assertAllClose(InstanceEmbeddingLoss3D()(-np.ones((2, 5)), embeddings[:2, :5]), 0.0)

    def test_gradient_matches_finite_differences(self):
        rng = np.random.default_rng(1)
        embeddings = rng.normal(0, 1.0, (2, 12, 3))
        ids = rng.integers(-1, 3, (2, 12))
        loss = InstanceEmbeddingLoss3D()
        _, (gradient,) = value_and_gradients(lambda x: loss(ids, x), [embeddings.astype("float32")])
        gradient = ops.convert_to_numpy(gradient)
        numeric = np.zeros_like(embeddings)
        step = 1e-5
        for index in np.ndindex(embeddings.shape):
            up, down = embeddings.copy(), embeddings.copy()
            up[index] += step
            down[index] -= step
            numeric[index] = (reference_loss(ids, up) - reference_loss(ids, down)) / (2 * step)
        self.assertAllClose(gradient, numeric, atol=2e-3, rtol=2e-3)
        self.assertTrue(np.all(gradient[ids == -1] == 0))

    def test_separable_embeddings_cost_only_the_regularizer(self):
        embeddings = np.array([[[0.0, 0.1], [0.0, -0.1], [5.0, 0.0], [5.2, 0.0]]], "float32")
        ids = np.array([[0, 0, 1, 1]])
        expected = 0.001 * (0.0 + 5.1) / 2
        self.assertAllClose(InstanceEmbeddingLoss3D()(ids, embeddings), expected, atol=1e-6)

    def test_in_compiled_evaluate_and_instance_cap(self):
        rng = np.random.default_rng(2)
        embeddings = rng.normal(0, 1.5, (4, 30, 3)).astype("float32")
        ids = rng.integers(-1, 6, (4, 30))
        model = keras.Sequential([keras.Input((30, 3)), keras.layers.Identity()])
        model.compile(loss=InstanceEmbeddingLoss3D())
        value = model.evaluate(embeddings, ids, batch_size=4, verbose=0)
        self.assertAllClose(value, reference_loss(ids, embeddings), atol=1e-5, rtol=1e-5)
        # With room for 3 instances per scene, ids 3, 4 and 5 are left out like ignored ones.
        capped = InstanceEmbeddingLoss3D(max_instances=3)(ids, embeddings)
        expected = reference_loss(np.where(ids >= 3, -1, ids), embeddings)
        self.assertAllClose(capped, expected, atol=1e-5, rtol=1e-5)

    def test_config_round_trip(self):
        loss = InstanceEmbeddingLoss3D(pull_margin=0.3, push_margin=2.0, ignore_label=0)
        restored = keras.losses.deserialize(keras.losses.serialize(loss))
        self.assertEqual(restored.get_config(), loss.get_config())

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="push_margin"):
            InstanceEmbeddingLoss3D(pull_margin=1.0, push_margin=0.5)
        with pytest.raises(ValueError, match="pull_margin"):
            InstanceEmbeddingLoss3D(pull_margin=-1.0)
        with pytest.raises(ValueError, match="max_instances"):
            InstanceEmbeddingLoss3D(max_instances=0)
        with pytest.raises(ValueError, match="y_pred"):
            InstanceEmbeddingLoss3D()(np.zeros((2, 3)), np.zeros((2, 3)))
