"""The fully convolutional ResNet ("ResNet43_8s") that every Transporter module runs."""

import keras
from keras import ops

PAPER_FILTERS = (64, 128, 256, 512, 256, 128, 64, 16)
#: The factors by which the network may shrink its features (8 in the paper).
DOWNSAMPLINGS = (1, 2, 4, 8)


class _Bottleneck(keras.layers.Layer):
    """1x1 -> 3x3 -> 1x1 convolutions with a residual shortcut (a projection when asked).

    With `strides` above 1 the block reads every `strides`-th pixel of its input, as a strided
    1x1 convolution does, by slicing the input before stride-1 convolutions: TensorFlow 2.21's
    oneDNN CPU kernels `Conv2DBackpropInput` and `Conv2DBackpropFilter` of a 1x1 convolution
    with stride 2 or 4 and fewer than 16 input channels write outside their buffers ("corrupted
    size vs. prev_size", then a segmentation fault or abort during `fit`). The slice computes the
    same numbers with the same weights.
    """

    def __init__(self, filters, output_filters, strides, project, activation, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.output_filters = output_filters
        self.strides = strides
        self.project = project
        self.activation = activation
        self.conv1 = keras.layers.Conv2D(filters, 1, dtype=self.dtype_policy)
        self.conv2 = keras.layers.Conv2D(filters, 3, padding="same", dtype=self.dtype_policy)
        self.conv3 = keras.layers.Conv2D(output_filters, 1, dtype=self.dtype_policy)
        self.shortcut = (
            keras.layers.Conv2D(output_filters, 1, dtype=self.dtype_policy) if project else None
        )

    def build(self, input_shape):
        inner = (None, None, None, self.filters)
        self.conv1.build(input_shape)
        self.conv2.build(inner)
        self.conv3.build(inner)
        if self.shortcut is not None:
            self.shortcut.build(input_shape)

    def call(self, x):
        if self.strides > 1:
            x = x[:, :: self.strides, :: self.strides, :]
        y = ops.relu(self.conv1(x))
        y = ops.relu(self.conv2(y))
        y = self.conv3(y)
        shortcut = self.shortcut(x) if self.shortcut is not None else x
        y = y + shortcut
        return ops.relu(y) if self.activation else y


@keras.saving.register_keras_serializable(package="keras_suite")
class TransporterResNet(keras.layers.Layer):
    """The Transporter's fully convolutional ResNet: dense per-pixel features at input size.

    The "ResNet43_8s" of Zeng et al., "Transporter Networks: Rearranging the Visual World for
    Robotic Manipulation" (CoRL 2020): a 3x3 stem, then eight stages of one projecting and one
    identity bottleneck block each; stages 2-4 halve the resolution (8x in all), stages 5-7 are
    each followed by a 2x bilinear upsampling, and the last stage outputs `output_dim` channels
    without a final ReLU. With `downsampling=4` (or 2, 1) only stages 2-3 (or 2, or none) halve
    the resolution and only stages 6-7 (or 7, or none) upsample: a model that sees maps shrunk
    twice (`map_scaling`) with `downsampling=4` has deep features as fine, in metres, as the
    paper's at full size. Inputs whose height or width is not a multiple of `downsampling` are
    zero-padded at the bottom/right and the output is cropped back, so the output always has the
    input's height and width.

    Args:
        output_dim: number of output channels.
        filters: the widths of the eight stages; the paper's are
            `(64, 128, 256, 512, 256, 128, 64, 16)`. Narrower tuples give small models.
        downsampling: how many times the deepest features are coarser than the input: 8 (the
            paper's), 4, 2 or 1.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, H, W, channels)`.

    Returns:
        Tensor `(batch, H, W, output_dim)`.

    Example:

    ```python
    import numpy as np
    from keras_suite.layers import TransporterResNet

    net = TransporterResNet(output_dim=3, filters=(8, 8, 16, 16, 16, 8, 8, 8))
    net(np.zeros((1, 20, 12, 4), "float32")).shape  # (1, 20, 12, 3)
    ```
    """

    def __init__(self, output_dim, filters=PAPER_FILTERS, downsampling=8, **kwargs):
        super().__init__(**kwargs)
        filters = tuple(int(f) for f in filters)
        if len(filters) != 8 or min(filters) < 1:
            raise ValueError(
                "`filters` must be 8 positive stage widths, e.g. "
                f"{PAPER_FILTERS}. Received: filters={filters}"
            )
        if int(output_dim) < 1:
            raise ValueError(f"`output_dim` must be a positive int. Received: {output_dim}")
        if downsampling not in DOWNSAMPLINGS:
            raise ValueError(
                f"`downsampling` must be one of {DOWNSAMPLINGS}. Received: "
                f"downsampling={downsampling!r}"
            )
        self.output_dim = int(output_dim)
        self.filters = filters
        self.downsampling = int(downsampling)
        halvings = self.downsampling.bit_length() - 1
        strides = [2 if 1 <= stage <= halvings else 1 for stage in range(len(filters))]
        # The stages after which the features are upsampled: the last `halvings` of 4, 5, 6.
        self._upsample_after = tuple(range(7 - halvings, 7))
        self.stem = keras.layers.Conv2D(filters[0], 3, padding="same", dtype=self.dtype_policy)
        self.blocks = []
        for stage, (width, stride) in enumerate(zip(filters, strides)):
            last = stage == len(filters) - 1
            out = self.output_dim if last else width
            self.blocks.append(
                _Bottleneck(width, out, stride, True, not last, dtype=self.dtype_policy)
            )
            self.blocks.append(_Bottleneck(width, out, 1, False, not last, dtype=self.dtype_policy))
        self.upsample = keras.layers.UpSampling2D(
            2, interpolation="bilinear", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        # Convolutions only need the channel count; spatial sizes stay unknown.
        channels = input_shape[-1]
        self.stem.build((None, None, None, channels))
        channels = self.filters[0]
        for block in self.blocks:
            block.build((None, None, None, channels))
            channels = block.output_filters

    def call(self, inputs):
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        pad_h, pad_w = -height % self.downsampling, -width % self.downsampling
        x = inputs
        if pad_h or pad_w:
            x = ops.pad(x, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)))
        x = ops.relu(self.stem(x))
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index // 2 in self._upsample_after and index % 2 == 1:
                x = self.upsample(x)
        return x[:, :height, :width, :]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        return dict(
            super().get_config(),
            output_dim=self.output_dim,
            filters=self.filters,
            downsampling=self.downsampling,
        )
