"""The built-in datasets of `keras-suite search`: sklearn's digits and mnist1d, made offline."""

import numpy as np

DATASETS = ("digits", "mnist1d")
#: The blocks searched on each built-in dataset.
DATASET_BLOCKS = {
    "digits": [
        "conv3x3_16",
        "conv3x3_32",
        "conv5x5_16",
        "resnet_16",
        "max_pool",
        "dense_32",
        "dense_64",
        "dense_128",
        "residual_dense_64",
    ],
    "mnist1d": [
        "conv1d_k3_32",
        "conv1d_k3_64",
        "conv1d_k5_32",
        "max_pool1d",
        "bilstm_32",
        "dense_64",
        "dense_128",
        "residual_dense_64",
    ],
}


def load_dataset(name, seed=0):
    """Loads a built-in dataset, split into train, validation and test.

    Both datasets are made offline: sklearn ships digits, and mnist1d's `make_dataset` generates
    its sequences (Greydanus, "Scaling down deep learning", 2020; its downloading `get_dataset`
    is never called). The test split is fixed; `seed` draws the validation fifth of the rest.

    Args:
        name: `"digits"` (8x8x1 images, 10 classes, 1797 examples, 497 of them for testing) or
            `"mnist1d"` (40-step sequences with one channel, 10 classes, 4000 examples, 800 of
            them for testing).
        seed: the seed of the train/validation split.

    Returns:
        A dict with `x_train`, `y_train`, `x_val`, `y_val`, `x_test`, `y_test` (float32 inputs,
        int32 labels), `blocks` (the block names searched) and `num_classes`.

    Example:

    ```python
    data = keras_suite.tuner.load_dataset("digits")
    data["x_train"].shape  # (1040, 8, 8, 1)
    ```
    """
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = (digits.images / 16.0).astype("float32")[..., None]
        y = digits.target.astype("int32")
        order = np.random.default_rng(1234).permutation(len(x))
        test, rest = order[:497], order[497:]
        x_test, y_test, x, y = x[test], y[test], x[rest], y[rest]
    elif name == "mnist1d":
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.num_samples = 4000
        data = make_dataset(args)
        x, y = data["x"].astype("float32")[..., None], data["y"].astype("int32")
        x_test, y_test = data["x_test"].astype("float32")[..., None], data["y_test"].astype("int32")
    else:
        raise ValueError(f"`dataset` must be one of {DATASETS}. Received: dataset={name!r}")
    order = np.random.default_rng(seed).permutation(len(x))
    num_val = len(x) // 5
    val, train = order[:num_val], order[num_val:]
    return {
        "x_train": x[train],
        "y_train": y[train],
        "x_val": x[val],
        "y_val": y[val],
        "x_test": x_test,
        "y_test": y_test,
        "blocks": list(DATASET_BLOCKS[name]),
        "num_classes": 10,
    }
