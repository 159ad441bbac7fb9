import json
import os

import numpy as np
import pytest
from PIL import Image

from keras_suite.cli import main as cli
from keras_suite.cli import transporter


def test_train_and_eval_parse_under_keras_suite_ravens():
    parser = cli.build_parser()
    args = parser.parse_args(
        ["ravens", "train", "--task", "block-insertion", "--n-demos", "10", "--steps", "5"]
    )
    assert args.func is transporter.run_train
    assert (args.task, args.n_demos, args.steps) == ("block-insertion", 10, 5)
    assert args.config is None and args.from_preset is None  # train() then builds a narrow net
    args = parser.parse_args(["ravens", "train", "--task", "x", "--from-preset", "some/preset"])
    assert args.from_preset == "some/preset"
    args = parser.parse_args(["ravens", "eval", "--model", "a", "b", "--episodes", "3"])
    assert args.func is transporter.run_eval
    assert args.model == ["a", "b"] and args.episodes == 3 and args.first_seed == 1
    args = parser.parse_args(["ravens", "eval", "--model", "a", "--first-seed", "101"])
    assert args.first_seed == 101 and args.subpixel_place is None  # each preset's own
    args = parser.parse_args(["ravens", "eval", "--model", "a", "--no-subpixel-place"])
    assert args.subpixel_place is False
    for bad in (
        ["train", "--task", "x", "--steps", "0"],
        ["eval", "--model", "a", "--first-seed", "2"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(["ravens", *bad])


def test_table_has_the_paper_layout_with_our_numbers(tmp_path):
    results = {
        "block-insertion": {"10": {"score": 90.0, "success_rate": 90.0, "episodes": 10}},
        "towers-of-hanoi": {"1": {"score": 71.43, "success_rate": 0.0, "episodes": 2}},
    }
    path = tmp_path / "results.md"
    transporter.write_table(results, str(path))
    lines = path.read_text().splitlines()
    assert lines[0] == "| task | 1 demo | 10 demos | 100 demos |"
    row = next(line for line in lines if line.startswith("| block-insertion"))
    assert row == (
        "| block-insertion | - / paper 100.0 | 90.0 (90% solved, 10 ep.) / paper 100.0 "
        "| - / paper 100.0 |"
    )
    assert any(
        line.startswith("| towers-of-hanoi | 71.4 (0% solved, 2 ep.) / paper 73.1 ")
        for line in lines
    )


def test_evaluation_scores_partial_credit_as_the_paper_does(monkeypatch):
    class Episode:
        """A task of 7 goals: episode `seed` earns its first `moves[seed]` of them."""

        moves = {3: 7, 5: 6}

        def reset(self, seed):
            self.seed, self.done = seed, 0
            return {}, {}

        def step(self, action):
            self.done += 1
            solved = self.done == 7
            info = {"success": solved, "steps": self.done}
            truncated = not solved and self.done == self.moves[self.seed]
            return {}, 1 / 7, solved, truncated, info

        def close(self):
            pass

    from keras_suite.envs import ravens

    monkeypatch.setattr(ravens, "make", lambda task, max_steps=None: Episode())
    model = type(
        "Model",
        (),
        {"act": lambda self, obs, info: None, "test_time_turns": 1, "subpixel_place": False},
    )()
    result = transporter.evaluate(model, "towers-of-hanoi", 2, log=lambda line: None, first_seed=3)
    assert result["seeds"] == [3, 5] and result["successes"] == [True, False]
    assert result["rewards"] == [pytest.approx(1.0), pytest.approx(6 / 7, abs=1e-4)]
    assert result["success_rate"] == 50.0
    assert result["score"] == pytest.approx(100 * (1 + 6 / 7) / 2)
    with pytest.raises(ValueError, match="`first_seed` must be odd and positive"):
        transporter.evaluate(model, "towers-of-hanoi", 1, first_seed=4)


def test_plot_is_a_png(tmp_path):
    path = tmp_path / "results.png"
    results = {"block-insertion": {"10": {"score": 90.0, "success_rate": 90.0, "episodes": 10}}}
    transporter.write_plot(results, str(path))
    image = np.asarray(Image.open(path))
    assert image.ndim == 3 and image.shape[0] > 100


def test_training_needs_enough_demonstrations(tmp_path):
    folder = tmp_path / "block-insertion"
    folder.mkdir()
    for seed in (0, 1, 2):  # seed 1 is a test episode and does not count
        np.savez(folder / f"{seed:06d}.npz", x=np.zeros(1))
    assert [
        os.path.basename(p) for p in transporter._demo_paths(str(tmp_path), "block-insertion", 2)
    ] == ["000000.npz", "000002.npz"]
    with pytest.raises(ValueError, match="needs 3 training episodes of block-insertion"):
        transporter._demo_paths(str(tmp_path), "block-insertion", 3)


def test_eval_refuses_a_preset_without_task_metadata(tmp_path, monkeypatch):
    folder = tmp_path / "preset"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({"parameter_count": 1}))
    monkeypatch.setattr(transporter, "evaluate", lambda *a, **k: pytest.fail("must not evaluate"))
    from keras_suite.zoo import TransporterNet

    monkeypatch.setattr(TransporterNet, "from_preset", classmethod(lambda cls, name: None))
    args = cli.build_parser().parse_args(
        ["ravens", "eval", "--model", str(folder), "--out", str(tmp_path / "eval")]
    )
    with pytest.raises(ValueError, match="must name its `task` and `n_demos`"):
        args.func(args)


def test_eval_record_writes_the_success_into_the_preset_metadata(tmp_path, monkeypatch):
    folder = tmp_path / "preset"
    folder.mkdir()
    (folder / "metadata.json").write_text(
        json.dumps({"task": "block-insertion", "n_demos": 10, "parameter_count": 1})
    )
    result = {
        "score": 50.0,
        "success_rate": 50.0,
        "mean_reward": 0.5,
        "episodes": 2,
        "seeds": [1, 3],
        "successes": [True, False],
        "rewards": [1.0, 0.0],
        "test_time_turns": 4,
        "subpixel_place": True,
    }
    monkeypatch.setattr(transporter, "evaluate", lambda *a, **k: dict(result))
    from keras_suite.zoo import TransporterNet

    overrides = []
    monkeypatch.setattr(
        TransporterNet,
        "from_preset",
        classmethod(lambda cls, name, **kwargs: overrides.append(kwargs)),
    )
    args = cli.build_parser().parse_args(
        ["ravens", "eval", "--model", str(folder), "--out", str(tmp_path / "eval"), "--record"]
        + ["--test-time-turns", "4", "--subpixel-place"]
    )
    assert args.func(args) == 0
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["success_rate"] == 50.0 and metadata["n_demos"] == 10
    assert metadata["score"] == 50.0
    assert metadata["evaluation"]["seeds"] == [1, 3]
    assert metadata["evaluation"]["rewards"] == [1.0, 0.0]
    assert metadata["evaluation"]["successes"] == [True, False]
    assert overrides == [{"test_time_turns": 4, "subpixel_place": True}]
    assert metadata["evaluation"]["test_time_turns"] == 4
    assert metadata["evaluation"]["subpixel_place"] is True
    table = (tmp_path / "eval" / "results.md").read_text()
    assert "| block-insertion | - / paper 100.0 | 50.0 (50% solved, 2 ep.) / paper 100.0 |" in table


def test_eval_gives_a_goal_conditioned_preset_its_own_row(tmp_path, monkeypatch):
    names = []
    for name, extra in (("plain", {}), ("goal", {"goal_conditioned": True})):
        folder = tmp_path / name
        folder.mkdir()
        metadata = {"task": "block-insertion", "n_demos": 10, **extra}
        (folder / "metadata.json").write_text(json.dumps(metadata))
        names.append(str(folder))
    rates = iter([90.0, 80.0])

    def evaluate(*args, **kwargs):
        rate = next(rates)
        return {"score": rate, "success_rate": rate, "episodes": 4}

    monkeypatch.setattr(transporter, "evaluate", evaluate)
    from keras_suite.zoo import TransporterNet

    monkeypatch.setattr(TransporterNet, "from_preset", classmethod(lambda cls, name: None))
    args = cli.build_parser().parse_args(
        ["ravens", "eval", "--model", *names, "--out", str(tmp_path / "eval")]
    )
    assert args.func(args) == 0
    lines = (tmp_path / "eval" / "results.md").read_text().splitlines()
    table = "\n".join(lines)
    assert "| block-insertion | - / paper 100.0 | 90.0 (90% solved, 4 ep.) / paper 100.0 |" in table
    assert "| block-insertion, goal-conditioned | - | 80.0 (80% solved, 4 ep.) | - |" in lines


def test_eval_scores_the_cells_of_an_earlier_results_file(tmp_path, monkeypatch):
    folder = tmp_path / "preset"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({"task": "block-insertion", "n_demos": 1}))
    out = tmp_path / "eval"
    out.mkdir()
    earlier = {"success_rate": 0.0, "mean_reward": 0.5, "episodes": 2}  # no `score` yet
    (out / "results.json").write_text(json.dumps({"towers-of-hanoi": {"10": earlier}}))
    result = {"score": 100.0, "success_rate": 100.0, "episodes": 2}
    monkeypatch.setattr(transporter, "evaluate", lambda *a, **k: dict(result))
    from keras_suite.zoo import TransporterNet

    monkeypatch.setattr(TransporterNet, "from_preset", classmethod(lambda cls, name: None))
    args = cli.build_parser().parse_args(
        ["ravens", "eval", "--model", str(folder), "--out", str(out)]
    )
    assert args.func(args) == 0
    table = (out / "results.md").read_text()
    assert "| 50.0 (0% solved, 2 ep.) / paper 83.9 |" in table
    assert "| block-insertion | 100.0 (100% solved, 2 ep.) / paper 100.0 |" in table


def test_train_rejects_a_scale_that_does_not_divide_the_crop(tmp_path):
    with pytest.raises(ValueError, match="`scale` must divide the crop size 64"):
        transporter.train("block-insertion", str(tmp_path), n_demos=1, scale=3)


@pytest.mark.parametrize("scale", [1, 2, 4, 8])
def test_default_downsampling_keeps_the_papers_feature_grid_in_metres(scale):
    from keras_suite.zoo.transporter.action_coding import PIXEL_SIZE

    # The paper: full-size maps (3.125 mm pixels), features 8 times coarser: 2.5 cm cells.
    cell = scale * PIXEL_SIZE * transporter.default_downsampling(scale)
    assert cell == pytest.approx(8 * PIXEL_SIZE)
    args = cli.build_parser().parse_args(
        ["ravens", "train", "--task", "block-insertion", "--scale", str(scale)]
    )
    assert args.downsampling is None  # train() then uses default_downsampling(scale)


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    """A folder with one block-insertion oracle demonstration (seed 0)."""
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens.demonstrations import collect

    folder = tmp_path_factory.mktemp("demos")
    env = ravens.make("block-insertion")
    try:
        collect(env, ravens.OracleAgent(env), 1, str(folder), log=None)
    finally:
        env.close()
    return str(folder)


def test_a_resumed_run_takes_a_new_learning_rate_and_keeps_it(tmp_path, demos):
    def learning_rate_after(steps, learning_rate):
        preset = transporter.train(
            "block-insertion",
            demos,
            n_demos=1,
            steps=steps,
            save_every=1,
            scale=8,
            learning_rate=learning_rate,
            out=str(tmp_path / "train"),
            log=lambda line: None,
            transport_downsampling=2,
        )
        metadata = json.loads(open(os.path.join(preset, "metadata.json")).read())
        assert metadata["training_steps"] == steps
        assert (metadata["downsampling"], metadata["transport_downsampling"]) == (1, 2)
        return metadata["learning_rate"], metadata.get("learning_rate_schedule")

    assert learning_rate_after(1, 2e-4) == (pytest.approx(2e-4), None)
    # Resumed with nothing left to train (one fit is slow): no rate keeps the saved one, a new
    # rate replaces it from the step reached.
    assert learning_rate_after(1, None) == (pytest.approx(2e-4), None)
    schedule = [[0, pytest.approx(2e-4)], [1, pytest.approx(3e-5)]]
    assert learning_rate_after(1, 3e-5) == (pytest.approx(3e-5), schedule)


def test_goal_conditioned_training_and_evaluation(tmp_path, monkeypatch, demos):
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens.demonstrations import run_episode
    from keras_suite.zoo import GoalTransporterNet, TransporterNet

    env = ravens.make("block-insertion")
    try:
        oracle_episode, _ = run_episode(env, ravens.OracleAgent(env), 1)
    finally:
        env.close()
    options = dict(n_demos=1, steps=1, save_every=1, scale=8, log=lambda line: None)
    out = str(tmp_path / "train")
    preset = transporter.train("block-insertion", demos, out=out, goal_conditioned=True, **options)
    metadata = json.loads(open(os.path.join(preset, "metadata.json")).read())
    assert metadata["goal_conditioned"] is True
    model = TransporterNet.from_preset(preset)
    assert isinstance(model, GoalTransporterNet)
    with pytest.raises(ValueError, match="holds a GoalTransporterNet: resume it with"):
        transporter.train("block-insertion", demos, out=out, **options)

    goals = []
    act = GoalTransporterNet.act

    def spy(self, obs, info=None, goal=None):
        goals.append(goal)
        return act(self, obs, info, goal=goal)

    monkeypatch.setattr(GoalTransporterNet, "act", spy)
    result = transporter.evaluate(model, "block-insertion", 1, log=lambda line: None, max_steps=1)
    assert result["episodes"] == 1 and len(goals) == 1
    # The goal is the last observation of the oracle's episode on the same (first odd) seed.
    np.testing.assert_array_equal(goals[0]["colormap"], oracle_episode["colormap"][-1])
    np.testing.assert_array_equal(goals[0]["heightmap"], oracle_episode["heightmap"][-1])


def test_average_last_writes_the_mean_of_the_last_checkpoints(tmp_path, demos):
    import keras

    from keras_suite.zoo import TransporterNet

    out = tmp_path / "train"
    options = dict(n_demos=1, scale=8, out=str(out), log=lambda line: None, average_last=2)
    preset = transporter.train("block-insertion", demos, steps=3, save_every=1, **options)
    # Only the last two checkpoints' weights are kept.
    assert sorted(os.listdir(out / "snapshots")) == ["step-2.weights.h5", "step-3.weights.h5"]
    metadata = json.loads(open(os.path.join(preset, "metadata.json")).read())
    assert metadata["averaged_checkpoints"] == [2, 3] and metadata["training_steps"] == 3
    model = keras.saving.load_model(str(out / "checkpoint.keras"))  # the last one, as trained
    last = model.get_weights()
    model.load_weights(str(out / "snapshots" / "step-2.weights.h5"))
    before = model.get_weights()
    averaged = TransporterNet.from_preset(preset).get_weights()
    assert any(np.abs(a - b).max() > 0 for a, b in zip(last, before))
    for mean, a, b in zip(averaged, before, last):
        np.testing.assert_allclose(mean, (a + b) / 2, atol=1e-7)
    # Resumed at step 3 with epochs of 2 steps: one epoch, ending at step 5 (not 4).
    preset = transporter.train("block-insertion", demos, steps=4, save_every=2, **options)
    metadata = json.loads(open(os.path.join(preset, "metadata.json")).read())
    assert metadata["training_steps"] == 5 and metadata["averaged_checkpoints"] == [3, 5]
    assert json.loads((out / "state.json").read_text())["steps"] == 5


def test_a_run_from_a_preset_starts_from_its_weights_and_keeps_its_networks(tmp_path, demos):
    from keras_suite.zoo import TransporterNet

    options = dict(n_demos=1, steps=1, save_every=1, scale=8, log=lambda line: None)
    first = transporter.train(
        "block-insertion", demos, out=str(tmp_path / "first"), transport_downsampling=2, **options
    )
    # With a tiny rate the one step Adam takes moves no weight by more than about the rate.
    preset = transporter.train(
        "block-insertion",
        demos,
        out=str(tmp_path / "second"),
        from_preset=first,
        learning_rate=1e-9,
        **options,
    )
    for start, trained in zip(
        TransporterNet.from_preset(first).get_weights(),
        TransporterNet.from_preset(preset).get_weights(),
    ):
        np.testing.assert_allclose(trained, start, atol=1e-7)
    metadata = json.loads(open(os.path.join(preset, "metadata.json")).read())
    assert metadata["initial_preset"] == first and metadata["training_steps"] == 1
    assert (metadata["config"], metadata["downsampling"], metadata["transport_downsampling"]) == (
        "narrow",
        1,
        2,
    )

    def start(**changes):
        transporter.train(
            "block-insertion",
            demos,
            out=str(tmp_path / "refused"),
            from_preset=first,
            **dict(options, **changes),
        )

    with pytest.raises(ValueError, match="with scale=8. Received: scale=4"):
        start(scale=4)
    with pytest.raises(ValueError, match="`downsampling` must be left out or be .* \\(1\\)"):
        start(downsampling=2)
    with pytest.raises(ValueError, match="`config` must be .* \\('narrow'\\).*config='paper'"):
        start(config="paper")
    with pytest.raises(ValueError, match="holds a TransporterNet: .* goal_conditioned=False"):
        start(goal_conditioned=True)
