"""Batched 2D cross-correlation of feature maps with per-example kernels, direct or by FFT."""

from keras import ops

METHODS = ("fft", "direct")


def cross_correlate(features, kernels, method="fft"):
    """Cross-correlates each example's feature map with that example's own stack of kernels.

    For every example `b` and kernel `r` the output is the "valid" cross-correlation (no kernel
    flip, as `tf.nn.convolution` computes it):

    `out[b, i, j, r] = sum_{a, c, d} features[b, i + a, j + c, d] * kernels[b, r, a, c, d]`

    for `0 <= i <= H - kh` and `0 <= j <= W - kw`. This is the Transporter's place scoring: the
    key features of the scene correlated with the rotated query crops. `method="fft"` multiplies
    spectra (a real FFT along the width, a complex FFT along the height), which costs the same for
    any kernel size and is much cheaper to differentiate than a large direct convolution;
    `method="direct"` runs one `keras.ops.conv` per example. The FFT runs in float32 whatever the
    inputs' dtype; the result is cast back to the features' dtype.

    Args:
        features: float tensor of shape `(batch, H, W, channels)`.
        kernels: float tensor of shape `(batch, num_kernels, kh, kw, channels)`, with
            `kh <= H` and `kw <= W`.
        method: `"fft"` or `"direct"`.

    Returns:
        A tensor of shape `(batch, H - kh + 1, W - kw + 1, num_kernels)`.

    Example:

    ```python
    import numpy as np
    from keras_suite.layers.transporter.cross_correlation import cross_correlate

    features = np.random.rand(2, 12, 10, 3).astype("float32")
    kernels = np.random.rand(2, 4, 5, 5, 3).astype("float32")
    cross_correlate(features, kernels).shape  # (2, 8, 6, 4)
    ```
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: method={method!r}")
    f_shape = ops.shape(features)
    k_shape = ops.shape(kernels)
    if len(f_shape) != 4 or len(k_shape) != 5:
        raise ValueError(
            "`features` must have shape (batch, H, W, channels) and `kernels` shape "
            "(batch, num_kernels, kh, kw, channels). Received: "
            f"features.shape={tuple(f_shape)}, kernels.shape={tuple(k_shape)}"
        )
    height, width, channels = f_shape[1], f_shape[2], f_shape[3]
    kh, kw = k_shape[2], k_shape[3]
    if k_shape[4] != channels or kh > height or kw > width:
        raise ValueError(
            "`kernels` must have the features' channel count and be no larger than the "
            "feature map. Received: "
            f"features.shape={tuple(f_shape)}, kernels.shape={tuple(k_shape)}"
        )
    if method == "direct":
        return _direct(features, kernels)
    return _fft(features, kernels)


def _direct(features, kernels):
    def one(args):
        feature, kernel = args
        # (num_kernels, kh, kw, channels) -> (kh, kw, channels, num_kernels)
        kernel = ops.transpose(kernel, (1, 2, 3, 0))
        return ops.conv(feature[None], kernel, padding="valid")[0]

    return ops.map(one, (features, kernels))


def _fft(features, kernels):
    dtype = features.dtype
    features = ops.cast(features, "float32")
    kernels = ops.cast(kernels, "float32")
    height, width = ops.shape(features)[1], ops.shape(features)[2]
    kh, kw = ops.shape(kernels)[2], ops.shape(kernels)[3]
    # Channels first, the two spatial axes last: (batch, 1, channels, H, W) and
    # (batch, num_kernels, channels, H, W), the kernels zero-padded to the map's size.
    f = ops.transpose(features, (0, 3, 1, 2))[:, None]
    k = ops.transpose(kernels, (0, 1, 4, 2, 3))
    k = ops.pad(k, ((0, 0), (0, 0), (0, 0), (0, height - kh), (0, width - kw)))
    f_re, f_im = _fft2_real(f)
    k_re, k_im = _fft2_real(k)
    # Cross-correlation: F * conj(K), summed over channels.
    prod_re = ops.sum(f_re * k_re + f_im * k_im, axis=2)
    prod_im = ops.sum(f_im * k_re - f_re * k_im, axis=2)
    out = _ifft2_real(prod_re, prod_im, width)
    out = out[:, :, : height - kh + 1, : width - kw + 1]
    return ops.cast(ops.transpose(out, (0, 2, 3, 1)), dtype)


def _fft2_real(x):
    """2D FFT over the last two axes of a real tensor, the last axis halved (rfft)."""
    re, im = ops.rfft(x)
    re, im = ops.fft((_swap(re), _swap(im)))
    return re, im


def _ifft2_real(re, im, width):
    """Inverse of `_fft2_real`: the inverse FFT along the height, then `irfft` along the width."""
    # ifft(z) = conj(fft(conj(z))) / n along the height axis (now the last axis).
    n = ops.cast(ops.shape(re)[-1], "float32")
    re, im = ops.fft((re, -im))
    re, im = _swap(re / n), _swap(-im / n)
    return ops.irfft((re, im), fft_length=width)


def _swap(x):
    rank = len(ops.shape(x))
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    return ops.transpose(x, perm)
