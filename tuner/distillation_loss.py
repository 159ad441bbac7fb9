"""`DistillationLoss`: learn from the labels and from a teacher's predictions at once."""

import keras
import numpy as np
from keras import ops

DISTILLATION_MODES = ("adaptive", "balanced")
_EPSILON = 1e-7


@keras.saving.register_keras_serializable(package="keras_suite")
class DistillationLoss(keras.losses.Loss):
    """The loss of a distilled Model Search student: labels and teacher, balanced.

    `y_true` packs the label and the teacher's prediction side by side (see
    `pack_distillation_targets`): for classification `concat([label_index,
    teacher_probabilities])` of width `1 + num_classes`; for regression `concat([target,
    teacher_prediction])` of width `2 * output_dim`. With `w` the label weight:

    - classification: `w * CE(label, student) + (1 - w) * T^2 * KL(teacher_T || student_T)`,
      where `p_T = softmax(log(p) / T)` softens probabilities `p` at temperature `T` (the same as
      softening the logits, Hinton et al. 2015);
    - regression: `w * MSE(target, student) + (1 - w) * MSE(teacher, student)`.

    `w` is `label_weight`, unless `y_true` carries one more column: then that last column is
    each example's `w`. Model Search's adaptive balance moves `w` from 0 (imitate the teacher)
    to 1 (fit the labels) over training by packing each batch's `w` into its targets; unlike a
    variable of the loss, which a compiled JAX step reads as a constant, this works the same on
    every backend. The computation runs in float32.

    Args:
        problem: `"classification"` (predictions are class probabilities) or `"regression"`.
        temperature: the softening temperature `T > 0` (classification only).
        label_weight: the weight `w` in `[0, 1]` of the label loss when `y_true` does not carry
            it.
        **kwargs: standard loss arguments (`name`, `reduction`).

    Example:

    ```python
    loss = DistillationLoss("classification", temperature=2.0, label_weight=0.5)
    y_true = pack_distillation_targets(labels, teacher_probabilities, "classification")
    loss(y_true, student_probabilities)
    ```
    """

    def __init__(
        self,
        problem="classification",
        temperature=2.0,
        label_weight=0.5,
        name="distillation",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if problem not in ("classification", "regression"):
            raise ValueError(
                f"`problem` must be 'classification' or 'regression'. Received: problem={problem!r}"
            )
        if not temperature > 0:
            raise ValueError(f"`temperature` must be positive. Received: temperature={temperature}")
        if not 0.0 <= label_weight <= 1.0:
            raise ValueError(
                f"`label_weight` must be in [0, 1]. Received: label_weight={label_weight}"
            )
        self.problem = problem
        self.temperature = float(temperature)
        self.label_weight = float(label_weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        width = y_pred.shape[-1]
        packed = 2 * width if self.problem == "regression" else 1 + width
        if y_true.shape[-1] == packed + 1:
            weight = y_true[..., packed]
            y_true = y_true[..., :packed]
        elif y_true.shape[-1] == packed:
            weight = self.label_weight
        else:
            raise ValueError(
                f"For {self.problem} with predictions of width {width}, `y_true` must have "
                f"{packed} columns (labels and teacher), or {packed + 1} with the label weight. "
                f"Received: y_true.shape={tuple(y_true.shape)}"
            )
        if self.problem == "regression":
            labels, teacher = y_true[..., :width], y_true[..., width:]
            label_loss = ops.mean(ops.square(labels - y_pred), axis=-1)
            teacher_loss = ops.mean(ops.square(teacher - y_pred), axis=-1)
            return weight * label_loss + (1.0 - weight) * teacher_loss
        labels = ops.cast(y_true[..., 0], "int32")
        teacher = y_true[..., 1:]
        log_student = ops.log(ops.clip(y_pred, _EPSILON, 1.0))
        label_loss = -ops.sum(ops.one_hot(labels, width) * log_student, axis=-1)
        log_teacher_soft = ops.log_softmax(
            ops.log(ops.clip(teacher, _EPSILON, 1.0)) / self.temperature, axis=-1
        )
        log_student_soft = ops.log_softmax(log_student / self.temperature, axis=-1)
        kl = ops.sum(ops.exp(log_teacher_soft) * (log_teacher_soft - log_student_soft), axis=-1)
        teacher_loss = self.temperature**2 * kl
        return weight * label_loss + (1.0 - weight) * teacher_loss

    def get_config(self):
        config = super().get_config()
        config.update(
            problem=self.problem, temperature=self.temperature, label_weight=self.label_weight
        )
        return config


def pack_distillation_targets(labels, teacher_predictions, problem, label_weight=None):
    """Packs labels and a teacher's predictions into the `y_true` of `DistillationLoss`.

    Args:
        labels: for classification, class indices of shape `(batch,)` or `(batch, 1)`, or
            one-hot labels of shape `(batch, num_classes)`; for regression, targets of shape
            `(batch, ...)` with as many values per example as the predictions.
        teacher_predictions: the teacher's outputs, `(batch, num_classes)` probabilities or
            `(batch, output_dim)` regression values.
        problem: `"classification"` or `"regression"`.
        label_weight: optional; the weight `w` of the label loss for every example of the
            batch, added as a last column.

    Returns:
        A float32 NumPy array of shape `(batch, 1 + num_classes)` (classification) or
        `(batch, 2 * output_dim)` (regression), with one more column with `label_weight`.

    Example:

    ```python
    pack_distillation_targets(np.array([2, 0]), teacher_probabilities, "classification", 0.5)
    # [[2, p00, p01, p02, 0.5], [0, p10, p11, p12, 0.5]]
    ```
    """
    predictions = np.asarray(teacher_predictions, "float32")
    labels = np.asarray(labels)
    batch, width = predictions.shape[0], predictions.shape[-1]
    if problem == "classification":
        if labels.ndim == 2 and labels.shape[-1] == width > 1:
            labels = np.argmax(labels, axis=-1)
        expected = 1
    elif problem == "regression":
        expected = width
    else:
        raise ValueError(
            f"`problem` must be 'classification' or 'regression'. Received: problem={problem!r}"
        )
    if labels.size != batch * expected:
        raise ValueError(
            f"`labels` must hold {expected} value(s) per example for {problem} with teacher "
            f"predictions of shape {predictions.shape}. Received: labels.shape={labels.shape}"
        )
    columns = [labels.reshape(batch, expected).astype("float32"), predictions]
    if label_weight is not None:
        columns.append(np.full((batch, 1), label_weight, "float32"))
    return np.concatenate(columns, axis=-1)


def label_weight_at(mode, progress):
    """The label weight `w` at training progress `progress` in `[0, 1]` for a distillation mode.

    `"adaptive"` moves `w` linearly from 0 to 1; `"balanced"` keeps `w = 0.5`.
    """
    if mode not in DISTILLATION_MODES:
        raise ValueError(f"`distillation` must be one of {DISTILLATION_MODES}. Received: {mode!r}")
    if mode == "balanced":
        return 0.5
    return float(min(max(progress, 0.0), 1.0))
