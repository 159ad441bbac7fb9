"""Ensembles of trained Model Search towers: their predictions averaged or learned-weighted."""

import keras

from keras_suite.tuner.weighted_average import WeightedAverage

ENSEMBLE_METHODS = ("average", "weighted")


def build_ensemble(members, method="average", name="ensemble"):
    """Builds one model whose output combines the outputs of `members` on the same input.

    Args:
        members: a list of at least two trained Keras models with the same input and output
            shapes. Each must have a distinct `.name`. Their weights are frozen.
        method: `"average"` (the mean of the members' outputs) or `"weighted"` (a
            `WeightedAverage` whose weights are trained, starting from the mean).
        name: the ensemble model's name.

    Returns:
        A functional `keras.Model`.

    Example:

    ```python
    ensemble = build_ensemble([model_a, model_b])
    ensemble.predict(x)  # == (model_a.predict(x) + model_b.predict(x)) / 2
    ```
    """
    if method not in ENSEMBLE_METHODS:
        raise ValueError(f"`method` must be one of {ENSEMBLE_METHODS}. Received: method={method!r}")
    if len(members) < 2:
        raise ValueError(
            f"An ensemble needs at least two members. Received: {len(members)} member(s)"
        )
    names = [member.name for member in members]
    if len(set(names)) != len(names):
        raise ValueError(f"Ensemble members need distinct names. Received: names={names}")
    input_shapes = {tuple(member.inputs[0].shape[1:]) for member in members}
    if len(input_shapes) != 1:
        raise ValueError(
            f"Ensemble members must take the same input shape. Received: {sorted(input_shapes)}"
        )
    inputs = keras.Input(shape=members[0].inputs[0].shape[1:], name="inputs")
    outputs = []
    for member in members:
        member.trainable = False
        outputs.append(member(inputs))
    if method == "average":
        combined = keras.layers.Average(name="average")(outputs)
    else:
        combined = WeightedAverage(name="weighted_average")(outputs)
    return keras.Model(inputs, combined, name=name)
