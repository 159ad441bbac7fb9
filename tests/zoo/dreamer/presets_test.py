import numpy as np
import pytest

from keras_suite.envs.atari import make_atari
from keras_suite.envs.minatar import GAMES
from keras_suite.testing import TestCase
from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer import evaluate
from keras_suite.zoo.dreamer.evaluate import EVAL_SEED
from keras_suite.zoo.dreamer.minatar_results import preset_name


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


#: The MinAtar agents that ship, one per game.
MINATAR_PRESETS = [preset_name(game) for game in GAMES]


def recorded_evaluation(name, min_episodes):
    """A preset's recorded evaluation, checked to follow the protocol: at least `min_episodes`
    greedy episodes on seeds that training never uses."""
    recorded = DreamerV2.preset_metadata(name)["evaluation"]
    assert recorded["episodes"] == len(recorded["returns"]) >= min_episodes
    assert recorded["policy"] == "greedy" and min(recorded["seeds"]) >= EVAL_SEED
    return recorded


@pytest.mark.tensorflow_only  # the recorded episodes were played on TensorFlow
@pytest.mark.parametrize("name", MINATAR_PRESETS)
def test_minatar_preset_replays_its_first_recorded_episode(name):
    metadata = DreamerV2.preset_metadata(name)
    recorded = recorded_evaluation(name, min_episodes=30)
    assert recorded["mean_return"] == pytest.approx(np.mean(recorded["returns"]))
    assert metadata["frames"] <= 1_000_000 and metadata["updates"] > 0
    results = evaluate(name, recorded["env"], episodes=1, seed=recorded["seeds"][0])
    assert results["returns"] == recorded["returns"][:1]


@pytest.mark.tensorflow_only
def test_pong_agent_beats_a_random_policy():
    recorded = recorded_evaluation("pong_agent", min_episodes=10)
    results = evaluate("pong_agent", "atari:pong", episodes=1, seed=recorded["seeds"][0])
    # A uniformly random policy scores -20.3 +- 0.8 on seeds 1,000,000-1,000,029 (no episode
    # above -18); the preset's first recorded episode scored -15.
    assert results["returns"][0] > -17.0, results["returns"]


def preset_outputs(name):
    """A DreamerV2 preset's deterministic outputs on fixed random frames, as Python floats.

    The embedding of two frames (random pixels, or random cells for a MinAtar grid), the first
    posterior's logits from the initial state, and the decoder's image for that posterior's
    expected features (its class probabilities, not a sample, so that no argmax can flip
    between backends).
    """
    from keras import ops

    world_model = DreamerV2.from_preset(name).world_model
    shape = world_model.image_shape
    rng = np.random.default_rng(0)
    high = 2 if world_model.image_dist == "bernoulli" else 256  # MinAtar's cells: 0 or 1
    data = {
        "image": rng.integers(0, high, (1, 2) + shape).astype("uint8"),
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
    "minatar_asterix": {
        "embed": (3.1026, 3.86799, -1.0, 11.67399, -0.30043, -0.70975, 0.16351),
        "logits": (-42.13371, 34.18017, -85.94359, 32.63513, 21.29478, -57.58406, 0.98737),
        "image": (-7.18146, 3.39739, -16.31465, -0.06933, -12.18708, -5.70471, -10.8708),
    },
    "minatar_breakout": {
        "embed": (0.35921, 1.27441, -0.99417, 4.73792, -0.91659, -0.6963, 1.71737),
        "logits": (-14.95393, 11.03202, -25.75598, 19.5316, -21.77743, -16.10303, 16.05619),
        "image": (-18.04496, 9.89427, -44.74374, 20.91471, -22.33613, -20.18816, -21.73974),
    },
    "minatar_freeway": {
        "embed": (10.23209, 3.53074, -1.0, 17.51401, 14.37019, 11.99006, 11.29927),
        "logits": (-58.18294, 50.78447, -126.45399, 60.26007, -110.58046, -85.58396, -103.14504),
        "image": (-14.22434, 9.84993, -33.83505, 5.51371, -30.84748, -29.78074, -28.2502),
    },
    "minatar_seaquest": {
        "embed": (3.73854, 4.96579, -1.0, 17.79076, 1.0151, 1.63192, 15.18809),
        "logits": (-32.70336, 33.3527, -70.65751, 79.31176, -45.67143, -32.33448, -61.75269),
        "image": (-8.03481, 4.71655, -27.74835, 5.39038, -17.44778, -9.59301, -10.13998),
    },
    "minatar_space_invaders": {
        "embed": (1.68215, 2.90003, -0.99997, 10.83291, 2.47153, 1.94132, -0.99463),
        "logits": (-22.56055, 23.96726, -56.11504, 27.74673, -0.86812, -9.22207, -2.70501),
        "image": (-15.88183, 6.95138, -37.94579, 0.16734, -23.53888, -25.59198, -10.69162),
    },
    "pong_agent": {
        "embed": (0.95141, 2.24612, -0.99996, 14.14309, -0.78842, 1.93255, 1.4433),
        "logits": (22.58144, 27.53289, -57.3755, 72.50411, 50.58096, 54.1236, -24.82193),
        "image": (-0.0832, 0.17987, -0.22853, 0.43695, -0.22748, -0.1582, 0.39263),
    },
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
