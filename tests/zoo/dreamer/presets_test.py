import numpy as np
import pytest

from keras_suite.envs.atari import make_atari
from keras_suite.testing import TestCase
from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer import evaluate


def pong_windows(starts, length, seed):
    """Windows of `length` steps of sticky-random Pong play, starting at the given steps."""
    env = make_atari("pong", time_limit=1000)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    action, frames, actions = 0, [], []
    for _ in range(max(starts) + length):
        if rng.random() < 0.2:
            action = int(rng.integers(env.action_space.n))
        frames.append(env.step(action)[0])
        actions.append(np.eye(env.action_space.n, dtype="float32")[action])
    count = len(starts)
    return {
        "image": np.stack([frames[s : s + length] for s in starts]),
        "action": np.stack([actions[s : s + length] for s in starts]),
        "reward": np.zeros((count, length), "float32"),
        "is_first": np.eye(1, length, dtype="float32").repeat(count, 0),
        "is_terminal": np.zeros((count, length), "float32"),
    }


class DreamerV2PresetTest(TestCase):
    def test_builtin_pong_preset_predicts_frames_of_the_atari_env(self):
        self.assertIn("pong_world_model", DreamerV2.presets)
        agent = DreamerV2.from_preset("pong_world_model")
        data = pong_windows(starts=range(100, 900, 50), length=20, seed=3)
        truth, prediction = agent.world_model.video_prediction(data, context=5)
        truth = np.asarray(truth, "float32") / 255.0
        prediction = np.asarray(prediction, "float32") / 255.0
        # The image loss per frame (half the summed squared error in [0, 1]) of the 5 observed
        # frames: 0.16 on the held-out frames of its training run (metadata.json), 0.13 here;
        # frames resized otherwise (OpenCV's area filter) score 0.31.
        posterior_error = np.mean(0.5 * ((prediction[:, :5] - truth[:, :5]) ** 2).sum((2, 3, 4)))
        self.assertLess(posterior_error, 0.2)
        # 15 imagined frames against copying the last observed one. A model that draws the
        # court but no paddles and no ball scores a ratio of 0.73-0.76; this one 0.42-0.58
        # (seeds 3 to 6).
        model_error = np.mean((prediction[:, 5:] - truth[:, 5:]) ** 2)
        copy_error = np.mean((truth[:, 4:5] - truth[:, 5:]) ** 2)
        self.assertLess(model_error, 0.65 * copy_error)

    def test_builtin_cartpole_preset_balances_the_pole(self):
        results = evaluate("tiny_cartpole_pixels", "cartpole_pixels", episodes=3, seed=50_000)
        # A uniformly random policy scores about 20 (benchmarks/dreamer_learning.py).
        self.assertGreater(results["mean_return"], 60.0, results["returns"])
        self.assertEqual(results["env_steps"], sum(results["returns"]))  # 1 per step


def preset_outputs(name):
    """A DreamerV2 preset's deterministic outputs on fixed random frames, as Python floats.

    The embedding of two frames, the first posterior's logits from the initial state, and the
    decoder's image for that posterior's expected features (its class probabilities, not a
    sample, so that no argmax can flip between backends).
    """
    from keras import ops

    world_model = DreamerV2.from_preset(name).world_model
    shape = world_model.image_shape
    rng = np.random.default_rng(0)
    data = {
        "image": rng.integers(0, 256, (1, 2) + shape).astype("uint8"),
        "action": np.zeros((1, 2, world_model.num_actions), "float32"),
        "reward": np.zeros((1, 2), "float32"),
        "is_first": np.array([[1.0, 0.0]], "float32"),
        "is_terminal": np.zeros((1, 2), "float32"),
    }
    rssm = world_model.rssm
    embed = world_model.embed(world_model.preprocess(data))
    posterior = rssm.obs_step(rssm.initial_state(1), embed[:, 0], sample=False)
    probabilities = ops.softmax(posterior["logits"], axis=-1)
    image = world_model.decode_images(rssm.features(dict(posterior, stoch=probabilities)))

    def stats(x):
        x = ops.convert_to_numpy(x).astype("float64").ravel()
        return (x.mean(), x.std(), x.min(), x.max(), x[0], x[len(x) // 2], x[-1])

    return {
        "embed": stats(embed),
        "logits": stats(posterior["logits"]),
        "image": stats(image),
    }


#: `preset_outputs` of each preset under TensorFlow, rounded to 5 decimals; made with
#: `KERAS_BACKEND=tensorflow python tests/zoo/dreamer/presets_test.py`.
TENSORFLOW_OUTPUTS = {
    "pong_world_model": {
        "embed": (0.40083, 1.43607, -0.99899, 6.78147, -0.87328, 0.82754, -0.722),
        "logits": (0.32269, 3.44165, -10.0748, 15.81179, -2.13858, 0.46598, -1.35799),
        "image": (-0.08339, 0.17983, -0.23065, 0.43006, -0.23003, -0.15573, 0.40651),
    },
    "tiny_cartpole_pixels": {
        "embed": (0.10001, 0.61801, -0.9107, 2.32231, 0.70929, 0.22578, 0.90795),
        "logits": (-0.12337, 2.22968, -5.10876, 3.81804, 0.94961, -1.30198, 2.54478),
        "image": (-0.46223, 0.15649, -0.561, 0.51334, -0.46447, -0.49438, -0.47597),
    },
}


@pytest.mark.parametrize("name", sorted(TENSORFLOW_OUTPUTS))
def test_preset_gives_tensorflows_outputs_on_every_backend(name):
    outputs = preset_outputs(name)
    for key, expected in TENSORFLOW_OUTPUTS[name].items():
        np.testing.assert_allclose(outputs[key], expected, rtol=1e-4, atol=1e-3, err_msg=key)


if __name__ == "__main__":
    for preset in sorted(DreamerV2.presets):
        outputs = preset_outputs(preset)
        rounded = {k: tuple(round(float(v), 5) for v in values) for k, values in outputs.items()}
        print(f"    {preset!r}: {rounded!r},")
