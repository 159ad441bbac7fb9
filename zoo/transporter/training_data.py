"""Demonstrations -> an endless, augmented `tf.data` pipeline of TransporterNet examples."""

import numpy as np
import tensorflow as tf

from keras_suite.zoo.transporter.se2_augmentation import se2_augment


def training_dataset(
    images,
    pick_pixels,
    place_pixels,
    rotation_bins,
    batch_size=1,
    augment=True,
    seed=0,
    goal_images=None,
):
    """An endless, shuffled dataset of `(x, y)` pairs for `TransporterNet.fit`.

    Each example is one demonstrated step: the map before the action and the action's labels.
    With `augment`, every draw applies a fresh random SE(2) transform (`se2_augment`) to the map
    and to both pixels (the relative rotation label is unchanged by it), and to the goal map when
    there is one (for `GoalTransporterNet`).

    Args:
        images: float array `(num_examples, H, W, 4)` (RGB in [0, 255], height in metres).
        pick_pixels: int array `(num_examples, 2)` of `(row, col)` pick pixels.
        place_pixels: int array `(num_examples, 2)` of place pixels.
        rotation_bins: int array `(num_examples,)` of placement rotation bins.
        batch_size: examples per batch.
        augment: whether to apply random SE(2) transforms.
        seed: seed of the shuffling and of the augmentation.
        goal_images: optional float array shaped like `images`: the map of each example's goal
            scene (see `ravens_demonstrations.load_goal_images`); the inputs then hold `"goal"`.

    Returns:
        A `tf.data.Dataset` yielding `({"image", "pick_pixel"[, "goal"]}, {"pick_pixel",
        "place_pixel", "rotation_bin"})` batches; pass `steps_per_epoch` to `fit`.

    Example:

    ```python
    import numpy as np
    from keras_suite.zoo.transporter.training_data import training_dataset

    images = np.zeros((3, 32, 16, 4), "float32")
    dataset = training_dataset(images, np.full((3, 2), 4), np.full((3, 2), 9), np.zeros(3, int))
    x, y = next(iter(dataset))
    ```
    """
    images = np.asarray(images, dtype=np.float32)
    count = len(images)
    arrays = [np.asarray(a) for a in (pick_pixels, place_pixels, rotation_bins)]
    if images.ndim != 4 or any(len(a) != count for a in arrays) or count == 0:
        raise ValueError(
            "`images` must be (num_examples, H, W, channels) with one pick pixel, place pixel "
            "and rotation bin per example. Received: "
            f"images.shape={images.shape}, labels={[a.shape for a in arrays]}"
        )
    channels = images.shape[-1]
    if goal_images is not None:
        goal_images = np.asarray(goal_images, dtype=np.float32)
        if goal_images.shape != images.shape:
            raise ValueError(
                "`goal_images` must have the shape of `images`. Received: "
                f"goal_images.shape={goal_images.shape}, images.shape={images.shape}"
            )
        # Stacked as channels, the map and its goal take the same random transform.
        images = np.concatenate([images, goal_images], axis=-1)
    dataset = tf.data.Dataset.from_tensor_slices(
        (images, arrays[0].astype(np.int32), arrays[1].astype(np.int32), arrays[2].astype(np.int32))
    )
    dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True).repeat()

    def to_example(step, example):
        image, pick, place, rotation = example
        if augment:
            pixels = tf.stack([pick, place])
            image, pixels, _ = se2_augment(image, pixels, tf.stack([seed, tf.cast(step, tf.int32)]))
            pick, place = pixels[0], pixels[1]
        x = {"image": image[..., :channels], "pick_pixel": pick}
        if goal_images is not None:
            x["goal"] = image[..., channels:]
        y = {"pick_pixel": pick, "place_pixel": place, "rotation_bin": rotation}
        return x, y

    dataset = dataset.enumerate().map(to_example, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
