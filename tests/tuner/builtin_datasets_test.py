import numpy as np
import pytest

from keras_suite.tuner import builtin_datasets, registered_blocks
from keras_suite.tuner.builtin_datasets import load_dataset


@pytest.mark.parametrize("name, shape", [("digits", (8, 8, 1)), ("mnist1d", (40, 1))])
def test_built_in_datasets_are_split_without_overlap(name, shape):
    data = load_dataset(name)
    assert data["x_train"].shape[1:] == shape
    sizes = [len(data[k]) for k in ("x_train", "x_val", "x_test")]
    assert [len(data[k]) for k in ("y_train", "y_val", "y_test")] == sizes
    total, test = {"digits": (1797, 497), "mnist1d": (4000, 800)}[name]
    assert sum(sizes) == total and sizes[2] == test
    assert sizes[1] == (total - test) // 5
    train = {row.tobytes() for row in data["x_train"]}
    assert not any(row.tobytes() in train for row in data["x_val"])
    assert set(np.unique(data["y_train"])) == set(range(10))
    assert data["blocks"] == builtin_datasets.DATASET_BLOCKS[name]
    assert set(data["blocks"]) <= set(registered_blocks())


def test_digits_are_sklearns_scaled_to_one():
    from sklearn.datasets import load_digits

    data = load_dataset("digits")
    digits = load_digits()
    expected = {row.tobytes(): label for row, label in zip(digits.images / 16.0, digits.target)}
    for x, y in zip(data["x_test"][:20], data["y_test"][:20]):
        assert expected[x[..., 0].astype("float64").tobytes()] == y


def test_the_seed_draws_the_validation_split_and_the_test_split_is_fixed():
    first, second = load_dataset("digits", seed=0), load_dataset("digits", seed=1)
    np.testing.assert_array_equal(first["x_test"], second["x_test"])
    assert not np.array_equal(first["x_val"], second["x_val"])


def test_an_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="Received: dataset='cifar'"):
        load_dataset("cifar")
