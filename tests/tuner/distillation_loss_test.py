import keras
import numpy as np
import pytest

from keras_suite.testing.test_case import TestCase
from keras_suite.tuner import DistillationLoss
from keras_suite.tuner.distillation_loss import label_weight_at, pack_distillation_targets


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class DistillationLossTest(TestCase):
    def test_classification_against_hand_computation(self):
        labels = np.array([0, 2])
        teacher = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
        student = np.array([[0.5, 0.25, 0.25], [0.2, 0.2, 0.6]])
        temperature, weight = 2.0, 0.3
        # By hand: cross-entropy on the labels, and T^2 KL between the softened distributions.
        ce = -np.log([0.5, 0.6])
        t_soft = _softmax(np.log(teacher) / temperature)
        s_soft = _softmax(np.log(student) / temperature)
        kl = (t_soft * np.log(t_soft / s_soft)).sum(-1)
        expected = np.mean(weight * ce + (1 - weight) * temperature**2 * kl)
        loss = DistillationLoss("classification", temperature, label_weight=weight)
        y_true = np.concatenate([labels[:, None], teacher], axis=1).astype("float32")
        self.assertAllClose(loss(y_true, student.astype("float32")), expected, atol=1e-6)

    def test_regression_against_hand_computation(self):
        target = np.array([[1.0], [2.0]])
        teacher = np.array([[1.5], [1.0]])
        student = np.array([[1.25], [3.0]])
        expected = np.mean(0.25 * (target - student) ** 2 + 0.75 * (teacher - student) ** 2)
        loss = DistillationLoss("regression", label_weight=0.25)
        y_true = np.concatenate([target, teacher], axis=1).astype("float32")
        self.assertAllClose(loss(y_true, student.astype("float32")), expected, atol=1e-6)

    def test_label_weight_schedule(self):
        self.assertEqual(label_weight_at("adaptive", 0.0), 0.0)
        self.assertEqual(label_weight_at("adaptive", 0.25), 0.25)
        self.assertEqual(label_weight_at("adaptive", 2.0), 1.0)
        self.assertEqual(label_weight_at("balanced", 0.9), 0.5)

    def test_label_weight_column_per_example_in_a_compiled_step(self):
        # Each example carries its own weight; the compiled `evaluate` step (XLA under JAX and
        # TensorFlow) must read it from the data, not bake in a constant.
        x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]], "float32")
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
        student = np.asarray(model.predict(x, verbose=0), "float64")
        labels = np.array([0, 2, 1, 1])
        teacher = np.array(
            [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]], "float32"
        )
        weights = np.array([0.0, 0.25, 0.5, 1.0])
        t_soft = _softmax(np.log(teacher) / 2.0)
        s_soft = _softmax(np.log(student) / 2.0)
        kl = (t_soft * np.log(t_soft / s_soft)).sum(-1)
        ce = -np.log(student[np.arange(4), labels])
        expected = np.mean(weights * ce + (1 - weights) * 4.0 * kl)
        y_true = np.concatenate(
            [pack_distillation_targets(labels, teacher, "classification"), weights[:, None]], 1
        )
        model.compile(loss=DistillationLoss("classification", 2.0), jit_compile="auto")
        self.assertAllClose(model.evaluate(x, y_true, batch_size=2, verbose=0), expected, atol=1e-5)

    def test_pack_against_hand_layout(self):
        teacher = np.array([[0.7, 0.3], [0.4, 0.6]], "float32")
        self.assertAllEqual(
            pack_distillation_targets(np.array([1, 0]), teacher, "classification", 0.25),
            np.array([[1, 0.7, 0.3, 0.25], [0, 0.4, 0.6, 0.25]], "float32"),
        )
        one_hot = np.array([[0, 1], [1, 0]])
        self.assertAllEqual(
            pack_distillation_targets(one_hot, teacher, "classification"),
            np.array([[1, 0.7, 0.3], [0, 0.4, 0.6]], "float32"),
        )
        self.assertAllEqual(
            pack_distillation_targets(np.array([[1.0, 2.0], [3.0, 4.0]]), teacher, "regression"),
            np.array([[1, 2, 0.7, 0.3], [3, 4, 0.4, 0.6]], "float32"),
        )
        with pytest.raises(ValueError, match=r"2 value\(s\) per example.*labels.shape=\(2,\)"):
            pack_distillation_targets(np.array([1.0, 2.0]), teacher, "regression")

    def test_weight_one_is_plain_cross_entropy_and_config_round_trip(self):
        loss = DistillationLoss("classification", 3.0, label_weight=1.0)
        student = np.array([[0.1, 0.9]], "float32")
        y_true = np.array([[1, 0.5, 0.5]], "float32")
        self.assertAllClose(loss(y_true, student), -np.log(0.9), atol=1e-6)
        restored = DistillationLoss.from_config(loss.get_config())
        self.assertEqual(restored.get_config(), loss.get_config())

    def test_trains_a_student_in_fit(self):
        x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
        labels = (x[:, 0] > 0).astype("float32")
        teacher = np.stack([1 - labels, labels], 1) * 0.8 + 0.1
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        loss = DistillationLoss(label_weight=0.5)
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
        y = np.concatenate([labels[:, None], teacher], 1)
        self.run_fit_smoke_test(model, x, y, epochs=5, batch_size=8, min_decrease=0.05)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="problem='ranking'"):
            DistillationLoss("ranking")
        with pytest.raises(ValueError, match="temperature=0"):
            DistillationLoss(temperature=0)
        with pytest.raises(ValueError, match="label_weight=2"):
            DistillationLoss(label_weight=2)
        with pytest.raises(ValueError, match=r"3 columns.*or 4.*y_true.shape=\(1, 2\)"):
            DistillationLoss()(np.ones((1, 2), "float32"), np.full((1, 2), 0.5, "float32"))
