"""`DistillationLoss`: learn from the labels and from a teacher's predictions at once."""

import keras
from keras import ops

DISTILLATION_MODES = ("adaptive", "balanced")
_EPSILON = 1e-7


@keras.saving.register_keras_serializable(package="keras_suite")
class DistillationLoss(keras.losses.Loss):
    """The loss of a distilled Model Search student: labels and teacher, balanced.

    `y_true` packs the label and the teacher's prediction side by side: for classification
    `concat([label_index, teacher_probabilities])` of width `1 + num_classes`; for regression
    `concat([target, teacher_prediction])` of width `2 * output_dim`. With `w` the label weight:

    - classification: `w * CE(label, student) + (1 - w) * T^2 * KL(teacher_T || student_T)`,
      where `p_T = softmax(log(p) / T)` softens probabilities `p` at temperature `T` (the same as
      softening the logits, Hinton et al. 2015);
    - regression: `w * MSE(target, student) + (1 - w) * MSE(teacher, student)`.

    Model Search's adaptive balance moves `w` from 0 (imitate the teacher) to 1 (fit the labels)
    over training; `set_label_weight` is called by the tuner each step. The computation runs in
    float32.

    Args:
        problem: `"classification"` (predictions are class probabilities) or `"regression"`.
        temperature: the softening temperature `T > 0` (classification only).
        label_weight: the initial weight `w` in `[0, 1]` of the label loss.
        **kwargs: standard loss arguments (`name`, `reduction`).

    Example:

    ```python
    loss = DistillationLoss("classification", temperature=2.0, label_weight=0.5)
    y_true = np.concatenate([labels[:, None], teacher_probabilities], axis=1)
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
        self._weight = keras.Variable(
            self.label_weight, trainable=False, dtype="float32", name="label_weight"
        )

    def set_label_weight(self, value):
        """Sets the weight `w` of the label loss for the next steps."""
        self._weight.assign(float(value))

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        weight = ops.convert_to_tensor(self._weight)
        if self.problem == "regression":
            width = y_pred.shape[-1]
            labels, teacher = y_true[..., :width], y_true[..., width:]
            label_loss = ops.mean(ops.square(labels - y_pred), axis=-1)
            teacher_loss = ops.mean(ops.square(teacher - y_pred), axis=-1)
            return weight * label_loss + (1.0 - weight) * teacher_loss
        num_classes = y_pred.shape[-1]
        labels = ops.cast(y_true[..., 0], "int32")
        teacher = y_true[..., 1:]
        log_student = ops.log(ops.clip(y_pred, _EPSILON, 1.0))
        label_loss = -ops.sum(ops.one_hot(labels, num_classes) * log_student, axis=-1)
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


def label_weight_at(mode, progress):
    """The label weight `w` at training progress `progress` in `[0, 1]` for a distillation mode.

    `"adaptive"` moves `w` linearly from 0 to 1; `"balanced"` keeps `w = 0.5`.
    """
    if mode not in DISTILLATION_MODES:
        raise ValueError(f"`distillation` must be one of {DISTILLATION_MODES}. Received: {mode!r}")
    if mode == "balanced":
        return 0.5
    return float(min(max(progress, 0.0), 1.0))


class LabelWeightSchedule(keras.callbacks.Callback):
    """Updates a `DistillationLoss`'s label weight before each training step."""

    def __init__(self, loss, mode, total_steps):
        super().__init__()
        self.loss = loss
        self.mode = mode
        self.total_steps = max(int(total_steps), 1)
        self._step = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.loss.set_label_weight(label_weight_at(self.mode, self._step / self.total_steps))
        self._step += 1
