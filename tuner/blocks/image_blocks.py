"""Image blocks (rank 4, `(batch, height, width, channels)`): convolutions, ResNet, pooling."""

import keras

from keras_suite.tuner.block_registry import register_block

IMAGE = (4,)


def _conv(kernel_size, filters, dilation_rate=1):
    def build(x, name):
        return keras.layers.Conv2D(
            filters,
            kernel_size,
            padding="same",
            dilation_rate=dilation_rate,
            activation="relu",
            name=f"{name}_conv",
        )(x)

    return build


def _resnet(filters):
    def build(x, name):
        shortcut = x
        if x.shape[-1] != filters:
            shortcut = keras.layers.Conv2D(filters, 1, name=f"{name}_project")(x)
        y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
        y = keras.layers.BatchNormalization(name=f"{name}_bn1")(y)
        y = keras.layers.ReLU(name=f"{name}_relu1")(y)
        y = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
        y = keras.layers.BatchNormalization(name=f"{name}_bn2")(y)
        y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
        return keras.layers.ReLU(name=f"{name}_relu2")(y)

    return build


def _downsample(filters):
    def build(x, name):
        return keras.layers.Conv2D(
            filters, 3, strides=2, padding="same", activation="relu", name=f"{name}_conv"
        )(x)

    return build


def _pool(layer_cls):
    def build(x, name):
        if x.shape[1] is not None and min(x.shape[1], x.shape[2]) < 2:
            return x
        return layer_cls(pool_size=2, padding="same", name=f"{name}_pool")(x)

    return build


for _filters in (16, 32, 64):
    register_block(f"conv3x3_{_filters}", ranks=IMAGE)(_conv(3, _filters))
for _filters in (16, 32):
    register_block(f"conv5x5_{_filters}", ranks=IMAGE)(_conv(5, _filters))
    register_block(f"resnet_{_filters}", ranks=IMAGE)(_resnet(_filters))
register_block("dilated_conv3x3_32", ranks=IMAGE)(_conv(3, 32, dilation_rate=2))
register_block("downsample_conv_32", ranks=IMAGE)(_downsample(32))
register_block("max_pool", ranks=IMAGE)(_pool(keras.layers.MaxPooling2D))
register_block("avg_pool", ranks=IMAGE)(_pool(keras.layers.AveragePooling2D))
