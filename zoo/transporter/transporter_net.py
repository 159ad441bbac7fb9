"""TransporterNet: the pick-and-place agent of Transporter Networks, with presets."""

import os

import keras
import numpy as np
from keras import ops

from keras_suite.layers.transporter.transporter_attention import TransporterAttention
from keras_suite.layers.transporter.transporter_resnet import DOWNSAMPLINGS, PAPER_FILTERS
from keras_suite.layers.transporter.transporter_transport import TransporterTransport
from keras_suite.ops.replicas import num_replicas_in_sync
from keras_suite.presets import PresetMixin
from keras_suite.zoo.transporter.action_coding import BOUNDS, PIXEL_SIZE, labels_to_action
from keras_suite.zoo.transporter.map_scaling import downsample_maps, map_scale_factor
from keras_suite.zoo.transporter.subpixel_place import subpixel_places
from keras_suite.zoo.transporter.test_time_turns import (
    TEST_TIME_TURNS,
    map_probabilities,
    turned_maps,
    turned_pixels,
    unturned_mean,
)
from keras_suite.zoo.transporter.transporter_loss import pixel_rotation_cross_entropy

# Per-channel statistics of Ravens top-down maps (colour scaled to [0, 1], height in metres),
# as used by the reference implementation to normalize its inputs.
COLOR_MEAN, COLOR_STD = 0.18877631, 0.07276466
HEIGHT_MEAN, HEIGHT_STD = 0.00509261, 0.00903967
#: Adam's learning rate of `compile()` with no optimizer, and of `train_transporter`.
DEFAULT_LEARNING_RATE = 2e-4


@keras.saving.register_keras_serializable(package="keras_suite")
class TransporterNet(PresetMixin, keras.Model):
    """Transporter Networks: pick by attention, place by transporting the pick's features.

    Zeng et al., "Transporter Networks: Rearranging the Visual World for Robotic Manipulation"
    (CoRL 2020). From a top-down colour + height map, `TransporterAttention` scores every pixel
    as the pick point; `TransporterTransport` crops the map around the pick, rotates the crop
    into `num_rotations` orientations and correlates its features with the scene's, scoring every
    place pixel x rotation. Trained by `fit` on demonstrations with the paper's loss (softmax
    cross-entropy over all pixels (x rotations) of each map, pick and place summed); during
    training the transport is conditioned on the demonstrated pick. `act(obs)` returns an action
    for a Ravens environment's `step`.

    Inputs are a dict: `"image"` `(batch, H, W, 4)` holding RGB in `[0, 255]` and the height
    above the table in metres, and, optionally, `"pick_pixel"` `(batch, 2)` (`(row, col)`, int);
    without it the transport uses the attention's argmax. Targets for `fit` are a dict with
    `"pick_pixel"`, `"place_pixel"` (`(batch, 2)`) and `"rotation_bin"` (`(batch,)`) (see
    `action_coding.action_to_labels` and `training_dataset`).

    Args:
        crop_size: side of the transport's query crop, in pixels (64 in the paper).
        num_rotations: placement rotations (36 in the paper).
        attention_filters: stage widths of the attention network.
        transport_filters: stage widths of the key and query networks.
        transport_dim: channels of the key/query features (3 in the paper).
        correlation: `"fft"` (default, faster) or `"direct"`.
        bounds: workspace bounds of the map, `((x_min, x_max), (y_min, y_max), (z_min, z_max))`.
        pixel_size: metres per pixel of the map the model sees; `act` shrinks finer
            observations to it (see `map_scaling`).
        downsampling: how much coarser the networks' deepest features are than the map (see
            `TransporterResNet`): 8 in the paper; 4 keeps the paper's feature grid, in metres, on
            maps shrunk twice.
        transport_downsampling: the same for the key and query networks (default:
            `downsampling`). Coarser attention features see farther (which disk to move in
            towers-of-hanoi depends on the other rods), finer transport features place more
            precisely.
        test_time_turns: 1 (default), 2 or 4: `predict_labels` and `act` average the pick
            and then the place probabilities over the map turned by `360 / test_time_turns`
            degrees apart (each turned back; see `test_time_turns`), at that many times the
            cost. Training and `call` are unaffected.
        subpixel_place: whether `predict_labels` and `act` place at the probability-weighted
            mean pixel around the place argmax, at its rotation (a fractional pixel; see
            `subpixel_place`), rather than at the argmax pixel's centre. Training and `call`
            are unaffected.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: the dict above.

    Returns:
        `{"pick": (batch, H, W, 1) logits, "place": (batch, H, W, num_rotations) logits}`.

    Example:

    ```python
    import numpy as np
    from keras_suite.zoo import TransporterNet

    small = (8, 8, 16, 16, 16, 8, 8, 8)
    model = TransporterNet(crop_size=16, num_rotations=8, attention_filters=small,
                           transport_filters=small)
    image = np.random.rand(1, 40, 24, 4).astype("float32")
    outputs = model({"image": image})
    outputs["place"].shape  # (1, 40, 24, 8)
    ```
    """

    preset_dir = os.path.join(os.path.dirname(__file__), "presets")
    transport_class = TransporterTransport

    def __init__(
        self,
        crop_size=64,
        num_rotations=36,
        attention_filters=PAPER_FILTERS,
        transport_filters=PAPER_FILTERS,
        transport_dim=3,
        correlation="fft",
        bounds=BOUNDS,
        pixel_size=PIXEL_SIZE,
        downsampling=8,
        transport_downsampling=None,
        test_time_turns=1,
        subpixel_place=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.crop_size = int(crop_size)
        self.num_rotations = int(num_rotations)
        self.attention_filters = tuple(int(f) for f in attention_filters)
        self.transport_filters = tuple(int(f) for f in transport_filters)
        self.transport_dim = int(transport_dim)
        self.correlation = correlation
        self.bounds = tuple(tuple(float(v) for v in axis) for axis in bounds)
        self.pixel_size = float(pixel_size)
        for name, value in (
            ("downsampling", downsampling),
            ("transport_downsampling", transport_downsampling),
        ):
            if value is not None and value not in DOWNSAMPLINGS:
                raise ValueError(
                    f"`{name}` must be one of {DOWNSAMPLINGS}. Received: {name}={value!r}"
                )
        if test_time_turns not in TEST_TIME_TURNS:
            raise ValueError(
                f"`test_time_turns` must be one of {TEST_TIME_TURNS}. "
                f"Received: test_time_turns={test_time_turns!r}"
            )
        self.test_time_turns = int(test_time_turns)
        self.subpixel_place = bool(subpixel_place)
        self.downsampling = int(downsampling)
        self.transport_downsampling = int(transport_downsampling or downsampling)
        if len(self.bounds) != 3 or any(len(axis) != 2 for axis in self.bounds):
            raise ValueError(
                "`bounds` must be ((x_min, x_max), (y_min, y_max), (z_min, z_max)). "
                f"Received: bounds={bounds!r}"
            )
        self.attention = TransporterAttention(
            1,
            self.attention_filters,
            self.downsampling,
            dtype=self.dtype_policy,
            name="attention",
        )
        self.transport = self.transport_class(
            self.crop_size,
            self.num_rotations,
            self.transport_dim,
            self.transport_filters,
            correlation,
            self.transport_downsampling,
            dtype=self.dtype_policy,
            name="transport",
        )
        self.pick_loss_tracker = keras.metrics.Mean(name="pick_loss")
        self.place_loss_tracker = keras.metrics.Mean(name="place_loss")

    def build(self, input_shape):
        image_shape = map_shape(
            input_shape["image"] if isinstance(input_shape, dict) else input_shape
        )
        for layer in (self.attention, self.transport):
            if not layer.built:
                layer.build(image_shape)

    def call(self, inputs, training=None):
        pick = self.pick_logits(inputs)
        pick_pixel = inputs.get("pick_pixel")
        if pick_pixel is None:
            pick_pixel = argmax_pixels(pick)[0]
        return {"pick": pick, "place": self.place_logits(inputs, pick_pixel)}

    def pick_logits(self, inputs):
        """The attention's logits `(batch, H, W, 1)` for the inputs of `call`."""
        if not isinstance(inputs, dict) or "image" not in inputs:
            raise ValueError(
                "TransporterNet takes a dict with `image` (and optionally `pick_pixel`). "
                f"Received: {type(inputs).__name__}"
            )
        map_shape(inputs["image"].shape)
        return self.attention(normalize_image(inputs["image"]))

    def place_logits(self, inputs, pick_pixel):
        """The transport's logits `(batch, H, W, num_rotations)` for picks at `pick_pixel`."""
        return self.transport(normalize_image(inputs["image"]), pick_pixel)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures the model for `fit`, by default as `train_transporter` trains it.

        Args:
            optimizer: `"auto"` (default): Adam at `DEFAULT_LEARNING_RATE` (2e-4); or any
                Keras optimizer.
            loss: `"auto"` or `None`: the paper's loss, summed over pick and place (see
                `pixel_rotation_cross_entropy`), which the model computes itself. Any other value
                is refused.
            metrics: `"auto"` or `None`: the model tracks `pick_loss` and `place_loss`.
            **kwargs: further `keras.Model.compile` arguments (`jit_compile`, ...).
        """
        if loss not in ("auto", None) or metrics not in ("auto", None):
            raise ValueError(
                f"`{type(self).__name__}` computes its own loss (pick plus place cross-entropy) "
                "and tracks `pick_loss` and `place_loss`: leave `loss` and `metrics` out. "
                f"Received: loss={loss!r}, metrics={metrics!r}"
            )
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(DEFAULT_LEARNING_RATE)
        super().compile(optimizer=optimizer, **kwargs)
        # Without a distribution strategy, Keras' TensorFlow trainer builds the optimizer inside
        # the first traced train step, where every slot variable is created under a `tf.cond`:
        # with the ~340 variables of a Transporter that made the first step take minutes.
        # The weights depend only on the channel count, so build the model and the optimizer
        # here, eagerly.
        if not self.built:
            self.build({"image": (None, None, None, 4)})
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        # Keras skips compiling a loaded model whose class overrides `compile`; this `compile`
        # takes the same arguments, so a `.keras` checkpoint comes back compiled (and resumes).
        self.compile(**keras.saving.deserialize_keras_object(config))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        pick_loss = pixel_rotation_cross_entropy(y_pred["pick"], y["pick_pixel"])
        place_loss = pixel_rotation_cross_entropy(
            y_pred["place"], y["place_pixel"], y["rotation_bin"]
        )
        self.pick_loss_tracker.update_state(pick_loss)
        self.place_loss_tracker.update_state(place_loss)
        loss = pick_loss + place_loss
        if self.losses:
            loss = loss + ops.sum(self.losses)
        # Under a `tf.distribute` strategy the replicas' gradients are summed: each replica's
        # loss (the mean over its share of the batch) counts for its share of the global mean,
        # as Keras scales its own compiled losses.
        return loss / num_replicas_in_sync()

    def predict_labels(self, image, **maps):
        """Pick pixel, place pixel and rotation bin for a batch of maps `(batch, H, W, 4)`.

        `maps` are further map inputs by name (a `GoalTransporterNet`'s `goal`). The transport
        crops at the attention's argmax. With `test_time_turns` above 1 the argmaxes are those
        of the probabilities averaged over the turned maps (all `maps` turned alike). With
        `subpixel_place` the place pixels are the fractional mean pixels around those argmaxes.

        Returns:
            numpy `(pick_pixels (batch, 2), place_pixels (batch, 2), rotation_bins (batch,))`;
            the place pixels are floats with `subpixel_place`.
        """
        inputs = {"image": image, **maps}
        if self.test_time_turns == 1:
            outputs = self(
                {name: ops.convert_to_tensor(m, "float32") for name, m in inputs.items()}
            )
            pick_pixels, place_scores = argmax_pixels(outputs["pick"])[0], outputs["place"]
        else:
            turns, map_size = self.test_time_turns, tuple(np.shape(image)[1:3])
            turned = {
                name: ops.convert_to_tensor(turned_maps(m, turns)) for name, m in inputs.items()
            }
            pick = map_probabilities(ops.convert_to_numpy(self.pick_logits(turned)))
            pick_pixels = ops.convert_to_numpy(
                argmax_pixels(unturned_mean(pick, turns, map_size))[0]
            )
            pixels = ops.convert_to_tensor(turned_pixels(pick_pixels, turns, map_size))
            place = map_probabilities(ops.convert_to_numpy(self.place_logits(turned, pixels)))
            place_scores = unturned_mean(place, turns, map_size)
        place_pixels, bins = argmax_pixels(place_scores)
        pick_pixels, place_pixels, bins = (
            ops.convert_to_numpy(t) for t in (pick_pixels, place_pixels, bins)
        )
        if self.subpixel_place:
            if self.test_time_turns == 1:  # logits
                place_scores = map_probabilities(ops.convert_to_numpy(place_scores))
            place_pixels = subpixel_places(place_scores, place_pixels, bins)
        return pick_pixels, place_pixels, bins

    def act(self, obs, info=None):
        """Chooses a pick-and-place action for one observation.

        Args:
            obs: a Ravens observation (a dict with `colormap` and `heightmap`), a dict with the
                map under `"image"`, or the map `(H, W, 4)` itself (see `observation_image`).
            info: unused (kept for the Ravens agent interface `act(obs, info)`).

        Returns:
            `{"pose0": (position, quaternion), "pose1": (position, quaternion)}`.

        A map finer than the model's `pixel_size` by an integer factor (a Ravens observation
        for a model trained on coarser maps) is first shrunk to it with `downsample_maps`.
        """
        image = self.observation_map(obs)
        return self.action_from_labels(self.predict_labels(image[None]), image)

    def observation_map(self, obs):
        """The `(H, W, 4)` map of an observation (see `observation_image`) at `pixel_size`."""
        image = observation_image(obs)
        return downsample_maps(image, map_scale_factor(image.shape, self.bounds, self.pixel_size))

    def action_from_labels(self, labels, image):
        """The Ravens action of the first example of `predict_labels`'s output on `image`."""
        pick, place, rotation = labels
        return labels_to_action(
            pick[0],
            place[0],
            int(rotation[0]),
            image[..., 3],
            self.num_rotations,
            self.bounds,
            self.pixel_size,
        )

    def get_config(self):
        return dict(
            super().get_config(),
            crop_size=self.crop_size,
            num_rotations=self.num_rotations,
            attention_filters=self.attention_filters,
            transport_filters=self.transport_filters,
            transport_dim=self.transport_dim,
            correlation=self.correlation,
            bounds=self.bounds,
            pixel_size=self.pixel_size,
            downsampling=self.downsampling,
            transport_downsampling=self.transport_downsampling,
            test_time_turns=self.test_time_turns,
            subpixel_place=self.subpixel_place,
        )


def observation_image(obs):
    """The `(H, W, 4)` float32 map (RGB in [0, 255], height in metres) of an observation.

    Args:
        obs: a Ravens observation (a dict with `colormap` `(H, W, 3)` and `heightmap`
            `(H, W)`), a dict holding the map under `"image"`, or the map itself.
    """
    if isinstance(obs, dict) and "colormap" in obs and "heightmap" in obs:
        color = np.asarray(obs["colormap"], np.float32)
        height = np.asarray(obs["heightmap"], np.float32)[..., None]
        image = np.concatenate([color, height], axis=-1)
    else:
        image = np.asarray(obs["image"] if isinstance(obs, dict) else obs, dtype=np.float32)
    if image.ndim != 3 or image.shape[-1] != 4:
        raise ValueError(
            "`obs` must be a map (H, W, 4), RGB then height, a dict with it under `image`, or a "
            f"Ravens observation with `colormap` and `heightmap`. Received: shape={image.shape}"
        )
    return image


def map_shape(shape, name="image"):
    """`shape` as a tuple, checked to be a batch of maps `(batch, H, W, 4)`."""
    shape = tuple(shape)
    if len(shape) != 4 or shape[-1] != 4:
        raise ValueError(
            f"`{name}` must have shape (batch, H, W, 4): RGB in [0, 255] and height in "
            f"metres. Received: shape={shape}"
        )
    return shape


def normalize_image(image):
    """Scales a `(batch, H, W, 4)` map (RGB in [0, 255], height in metres) as the paper does."""
    image = ops.cast(image, "float32")
    color = (image[..., :3] / 255.0 - COLOR_MEAN) / COLOR_STD
    height = (image[..., 3:] - HEIGHT_MEAN) / HEIGHT_STD
    return ops.concatenate([color, height], axis=-1)


def argmax_pixels(logits):
    """The `(row, col)` pixels `(batch, 2)` and rotation bins `(batch,)` of each logit map's max."""
    shape = ops.shape(logits)
    width, num_rotations = shape[2], shape[3]
    index = ops.argmax(ops.reshape(logits, (shape[0], -1)), axis=1)
    index = ops.cast(index, "int32")
    rotation = index % num_rotations
    pixel = index // num_rotations
    return ops.stack([pixel // width, pixel % width], axis=-1), rotation
