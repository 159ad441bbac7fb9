"""Sequence blocks (rank 3, `(batch, steps, channels)`): LSTMs, Conv1D, transformer encoder."""

import keras

from keras_suite.tuner.block_registry import register_block

SEQUENCE = (3,)


def _lstm(units, bidirectional):
    def build(x, name):
        if bidirectional:
            layer = keras.layers.Bidirectional(
                keras.layers.LSTM(units // 2, return_sequences=True), name=f"{name}_bilstm"
            )
        else:
            layer = keras.layers.LSTM(units, return_sequences=True, name=f"{name}_lstm")
        return layer(x)

    return build


def _conv1d(kernel_size, filters):
    def build(x, name):
        return keras.layers.Conv1D(
            filters, kernel_size, padding="same", activation="relu", name=f"{name}_conv"
        )(x)

    return build


def _transformer_encoder(dim, num_heads):
    def build(x, name):
        if x.shape[-1] != dim:
            x = keras.layers.Dense(dim, name=f"{name}_project")(x)
        attention = keras.layers.MultiHeadAttention(
            num_heads, dim // num_heads, name=f"{name}_attention"
        )(x, x)
        x = keras.layers.Add(name=f"{name}_add1")([x, attention])
        x = keras.layers.LayerNormalization(name=f"{name}_norm1")(x)
        hidden = keras.layers.Dense(2 * dim, activation="relu", name=f"{name}_ffn1")(x)
        hidden = keras.layers.Dense(dim, name=f"{name}_ffn2")(hidden)
        x = keras.layers.Add(name=f"{name}_add2")([x, hidden])
        return keras.layers.LayerNormalization(name=f"{name}_norm2")(x)

    return build


def _seq_pool(x, name):
    if x.shape[1] is not None and x.shape[1] < 2:
        return x
    return keras.layers.MaxPooling1D(2, padding="same", name=f"{name}_pool")(x)


register_block("lstm_32", ranks=SEQUENCE)(_lstm(32, bidirectional=False))
register_block("bilstm_32", ranks=SEQUENCE)(_lstm(32, bidirectional=True))
register_block("conv1d_k3_32", ranks=SEQUENCE)(_conv1d(3, 32))
register_block("conv1d_k3_64", ranks=SEQUENCE)(_conv1d(3, 64))
register_block("conv1d_k5_32", ranks=SEQUENCE)(_conv1d(5, 32))
register_block("transformer_encoder_32", ranks=SEQUENCE)(_transformer_encoder(32, 2))
register_block("max_pool1d", ranks=SEQUENCE)(_seq_pool)
