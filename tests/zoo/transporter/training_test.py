import json
import os

import keras
import numpy as np
import pytest

from keras_suite.zoo import GoalTransporterNet, TransporterNet
from keras_suite.zoo.transporter.action_coding import PIXEL_SIZE
from keras_suite.zoo.transporter.training import default_downsampling, train_transporter

from ...envs.ravens.original_ravens import write_split

# The recipe's tf.data pipeline (SE(2) augmentation) runs on TensorFlow.
pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    """A folder with one block-insertion oracle demonstration (seed 0)."""
    from keras_suite.envs.ravens.demonstrations import collect_demonstrations

    folder = tmp_path_factory.mktemp("demos")
    collect_demonstrations("block-insertion", 1, str(folder))
    return str(folder)


def _metadata(preset):
    with open(os.path.join(preset, "metadata.json")) as f:
        return json.load(f)


def test_trains_on_a_dataset_of_the_original_ravens_smoke(tmp_path):
    from keras_suite.envs import ravens

    env = ravens.make("block-insertion")
    try:
        (seed,) = write_split(str(tmp_path / "data"), env, "train", 1)
    finally:
        env.close()
    result = train_transporter(
        "block-insertion",
        str(tmp_path / "data"),
        str(tmp_path / "run"),
        n_demos=1,
        steps=1,
        save_every=1,
        scale=8,
    )
    assert (result["steps"], result["examples"]) == (1, 1)
    assert _metadata(result["preset"])["training_data"].endswith(f"(even seeds {seed})")


@pytest.mark.parametrize("scale", [1, 2, 4, 8])
def test_default_downsampling_keeps_the_papers_feature_grid_in_metres(scale):
    # The paper: full-size maps (3.125 mm pixels), features 8 times coarser: 2.5 cm cells.
    assert scale * PIXEL_SIZE * default_downsampling(scale) == pytest.approx(8 * PIXEL_SIZE)


def test_bad_arguments_are_refused_before_any_folder_is_made(tmp_path, demos):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="`scale` must divide the crop size 64"):
        train_transporter("block-insertion", demos, str(out), n_demos=1, scale=3)
    with pytest.raises(ValueError, match="`config` must be one of"):
        train_transporter("block-insertion", demos, str(out), n_demos=1, config="wide")
    with pytest.raises(ValueError, match="2 train episodes of block-insertion are needed"):
        train_transporter("block-insertion", demos, str(out), n_demos=2)
    with pytest.raises(FileNotFoundError, match="ravens collect --task towers-of-hanoi"):
        train_transporter("towers-of-hanoi", demos, str(out), n_demos=1)
    assert not out.exists()


def test_a_resumed_run_takes_a_new_learning_rate_and_keeps_it(tmp_path, demos):
    calls = []

    def learning_rate_after(steps, learning_rate):
        result = train_transporter(
            "block-insertion",
            demos,
            str(tmp_path / "train"),
            n_demos=1,
            steps=steps,
            save_every=1,
            scale=8,
            learning_rate=learning_rate,
            transport_downsampling=2,
            progress=lambda done, total, **values: calls.append((done, total, sorted(values))),
        )
        metadata = _metadata(result["preset"])
        assert metadata["training_steps"] == steps == result["steps"]
        assert (metadata["downsampling"], metadata["transport_downsampling"]) == (1, 2)
        return metadata["learning_rate"], metadata.get("learning_rate_schedule")

    # A new run without a rate trains at the model's default, 2e-4.
    assert learning_rate_after(1, None) == (pytest.approx(2e-4), None)
    assert calls == [(1, 1, ["loss", "pick_loss", "place_loss"])]
    # Resumed with nothing left to train (one fit is slow): no rate keeps the saved one, a new
    # rate replaces it from the step reached.
    assert learning_rate_after(1, None) == (pytest.approx(2e-4), None)
    schedule = [[0, pytest.approx(2e-4)], [1, pytest.approx(3e-5)]]
    assert learning_rate_after(1, 3e-5) == (pytest.approx(3e-5), schedule)
    assert len(calls) == 1  # no step ran on resumption


def test_goal_conditioned_training_writes_a_goal_transporter(tmp_path, demos):
    options = dict(n_demos=1, steps=1, save_every=1, scale=8)
    out = str(tmp_path / "train")
    result = train_transporter("block-insertion", demos, out, goal_conditioned=True, **options)
    assert _metadata(result["preset"])["goal_conditioned"] is True
    assert isinstance(TransporterNet.from_preset(result["preset"]), GoalTransporterNet)
    with pytest.raises(ValueError, match="holds a GoalTransporterNet: resume it with"):
        train_transporter("block-insertion", demos, out, **options)


def test_average_last_writes_the_mean_of_the_last_checkpoints(tmp_path, demos):
    out = tmp_path / "train"
    options = dict(n_demos=1, scale=8, average_last=2)
    result = train_transporter("block-insertion", demos, str(out), steps=3, save_every=1, **options)
    # Only the last two checkpoints' weights are kept.
    assert sorted(os.listdir(out / "snapshots")) == ["step-2.weights.h5", "step-3.weights.h5"]
    metadata = _metadata(result["preset"])
    assert metadata["averaged_checkpoints"] == [2, 3] and metadata["training_steps"] == 3
    model = keras.saving.load_model(str(out / "checkpoint.keras"))  # the last one, as trained
    last = model.get_weights()
    model.load_weights(str(out / "snapshots" / "step-2.weights.h5"))
    before = model.get_weights()
    averaged = TransporterNet.from_preset(result["preset"]).get_weights()
    assert any(np.abs(a - b).max() > 0 for a, b in zip(last, before))
    for mean, a, b in zip(averaged, before, last):
        np.testing.assert_allclose(mean, (a + b) / 2, atol=1e-7)
    # Resumed at step 3 with epochs of 2 steps: one epoch, ending at step 5 (not 4).
    result = train_transporter("block-insertion", demos, str(out), steps=4, save_every=2, **options)
    metadata = _metadata(result["preset"])
    assert metadata["training_steps"] == 5 and metadata["averaged_checkpoints"] == [3, 5]
    assert (result["start_step"], result["steps"]) == (3, 5)
    assert json.loads((out / "state.json").read_text())["steps"] == 5


def test_a_run_from_a_preset_starts_from_its_weights_and_keeps_its_networks(tmp_path, demos):
    options = dict(n_demos=1, steps=1, save_every=1, scale=8)
    first = train_transporter(
        "block-insertion", demos, str(tmp_path / "first"), transport_downsampling=2, **options
    )["preset"]
    # With a tiny rate the one step Adam takes moves no weight by more than about the rate.
    preset = train_transporter(
        "block-insertion",
        demos,
        str(tmp_path / "second"),
        from_preset=first,
        learning_rate=1e-9,
        **options,
    )["preset"]
    for start, trained in zip(
        TransporterNet.from_preset(first).get_weights(),
        TransporterNet.from_preset(preset).get_weights(),
    ):
        np.testing.assert_allclose(trained, start, atol=1e-7)
    metadata = _metadata(preset)
    assert metadata["initial_preset"] == first and metadata["training_steps"] == 1
    assert (metadata["config"], metadata["downsampling"], metadata["transport_downsampling"]) == (
        "narrow",
        1,
        2,
    )

    def start(**changes):
        out = tmp_path / "refused"
        train_transporter(
            "block-insertion", demos, str(out), from_preset=first, **dict(options, **changes)
        )

    with pytest.raises(ValueError, match="with scale=8. Received: scale=4"):
        start(scale=4)
    with pytest.raises(ValueError, match="`downsampling` must be left out or be .* \\(1\\)"):
        start(downsampling=2)
    with pytest.raises(ValueError, match="`config` must be .* \\('narrow'\\).*config='paper'"):
        start(config="paper")
    with pytest.raises(ValueError, match="holds a TransporterNet: .* goal_conditioned=False"):
        start(goal_conditioned=True)
    assert not (tmp_path / "refused").exists()
