"""GoalTransporterNet: a TransporterNet told the goal by an image of the finished scene."""

import keras
from keras import ops

from keras_suite.layers.transporter.goal_transporter_transport import GoalTransporterTransport
from keras_suite.zoo.transporter.transporter_net import (
    TransporterNet,
    map_shape,
    normalize_image,
)


@keras.saving.register_keras_serializable(package="keras_suite")
class GoalTransporterNet(TransporterNet):
    """Goal-conditioned Transporter Networks: pick and place towards a pictured goal.

    The goal-split variant of Seita et al., "Learning to Rearrange Deformable Cables, Fabrics,
    and Bags with Goal-Conditioned Transporter Networks" (ICRA 2021). The attention sees the map
    and the goal map stacked (8 channels); the transport is a `GoalTransporterTransport`, whose
    key and query features are gated by features of the goal map. One model can then serve any
    arrangement it is shown, instead of the one arrangement its demonstrations imply.

    Inputs are a dict: `"image"` and `"goal"`, both `(batch, H, W, 4)` maps (RGB in `[0, 255]`,
    height in metres), and optionally `"pick_pixel"` `(batch, 2)`. Targets and arguments are
    those of `TransporterNet`; `training_dataset(..., goal_images=)` and
    `ravens_demonstrations.load_goal_images` give the goals of demonstrations (each episode's
    last map).

    Example:

    ```python
    import numpy as np
    from keras_suite.zoo import GoalTransporterNet

    small = (8, 8, 16, 16, 16, 8, 8, 8)
    model = GoalTransporterNet(crop_size=16, num_rotations=8, attention_filters=small,
                               transport_filters=small)
    image = np.random.rand(1, 40, 24, 4).astype("float32")
    goal = np.random.rand(1, 40, 24, 4).astype("float32")
    outputs = model({"image": image, "goal": goal})
    outputs["place"].shape  # (1, 40, 24, 8)
    ```
    """

    transport_class = GoalTransporterTransport

    def build(self, input_shape):
        image_shape = map_shape(
            input_shape["image"] if isinstance(input_shape, dict) else input_shape
        )
        if not self.attention.built:
            self.attention.build(image_shape[:-1] + (8,))
        if not self.transport.built:
            self.transport.build(image_shape, None, image_shape)

    def pick_logits(self, inputs):
        if not isinstance(inputs, dict) or "image" not in inputs or "goal" not in inputs:
            received = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(
                "GoalTransporterNet takes a dict with `image` and `goal` (and optionally "
                f"`pick_pixel`). Received: {received}"
            )
        image_shape = map_shape(inputs["image"].shape)
        if map_shape(inputs["goal"].shape, "goal")[1:3] != image_shape[1:3]:
            raise ValueError(
                "`goal` must be a map of the same size as `image`. Received: "
                f"image.shape={image_shape}, goal.shape={tuple(inputs['goal'].shape)}"
            )
        x = normalize_image(inputs["image"])
        goal = normalize_image(inputs["goal"])
        return self.attention(ops.concatenate([x, goal], axis=-1))

    def place_logits(self, inputs, pick_pixel):
        x = normalize_image(inputs["image"])
        return self.transport(x, pick_pixel, normalize_image(inputs["goal"]))

    def act(self, obs, info=None, goal=None):
        """Chooses a pick-and-place action that brings the scene towards `goal`.

        Args:
            obs: the observation (as for `TransporterNet.act`).
            info: unused (kept for the Ravens agent interface).
            goal: an observation of the goal scene, in the same forms as `obs`.

        Returns:
            `{"pose0": (position, quaternion), "pose1": (position, quaternion)}`.
        """
        if goal is None:
            raise ValueError(
                "`goal` is required: an observation of the finished scene, e.g. the last "
                "observation of an oracle episode from the same seed."
            )
        image = self.observation_map(obs)
        goal_image = self.observation_map(goal)
        labels = self.predict_labels(image[None], goal=goal_image[None])
        return self.action_from_labels(labels, image)
