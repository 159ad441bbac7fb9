"""Tabular blocks (rank 2, `(batch, features)`): dense, residual, low-rank and bottleneck."""

import keras

from keras_suite.tuner.block_registry import register_block

TABULAR = (2,)


def _dense(units):
    def build(x, name):
        return keras.layers.Dense(units, activation="relu", name=f"{name}_dense")(x)

    return build


def _residual_dense(units):
    def build(x, name):
        shortcut = x
        if x.shape[-1] != units:
            shortcut = keras.layers.Dense(units, name=f"{name}_project")(x)
        y = keras.layers.Dense(units, activation="relu", name=f"{name}_dense1")(x)
        y = keras.layers.Dense(units, name=f"{name}_dense2")(y)
        y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
        return keras.layers.ReLU(name=f"{name}_relu")(y)

    return build


def _low_rank_dense(units, rank):
    def build(x, name):
        x = keras.layers.Dense(rank, use_bias=False, name=f"{name}_factor")(x)
        return keras.layers.Dense(units, activation="relu", name=f"{name}_dense")(x)

    return build


def _bottleneck_dense(units, bottleneck):
    def build(x, name):
        x = keras.layers.Dense(bottleneck, activation="relu", name=f"{name}_squeeze")(x)
        return keras.layers.Dense(units, activation="relu", name=f"{name}_expand")(x)

    return build


for _units in (32, 64, 128):
    register_block(f"dense_{_units}", ranks=TABULAR)(_dense(_units))
register_block("residual_dense_64", ranks=TABULAR)(_residual_dense(64))
register_block("low_rank_dense_64", ranks=TABULAR)(_low_rank_dense(64, 8))
register_block("bottleneck_dense_64", ranks=TABULAR)(_bottleneck_dense(64, 16))
