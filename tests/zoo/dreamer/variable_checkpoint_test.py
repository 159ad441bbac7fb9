import keras
import numpy as np
import pytest

from keras_suite.zoo.dreamer.variable_checkpoint import load_checkpoint, save_checkpoint


def test_round_trip_missing_folder_and_wrong_count(tmp_path):
    folder = str(tmp_path / "checkpoint")
    assert load_checkpoint(folder, []) is None
    saved = [keras.Variable(np.arange(6.0).reshape(2, 3)), keras.Variable(np.float32(2.5))]
    save_checkpoint(folder, saved, {"step": 7, "rng": [1, 2]})
    restored = [keras.Variable(np.zeros((2, 3))), keras.Variable(np.float32(0.0))]
    assert load_checkpoint(folder, restored) == {"step": 7, "rng": [1, 2]}
    for a, b in zip(saved, restored):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == [
        "state.json",
        "variables.npz",
    ]
    with pytest.raises(ValueError, match="holds 2 variables but 1"):
        load_checkpoint(folder, restored[:1])
