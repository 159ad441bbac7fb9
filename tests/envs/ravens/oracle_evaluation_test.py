import pytest

from keras_suite.envs.ravens.oracle_evaluation import evaluate_oracle


def test_the_oracle_solves_the_first_test_scenes_and_reports_each(tmp_path):
    calls = []
    gif = tmp_path / "oracle.gif"
    result = evaluate_oracle(
        "block-insertion",
        2,
        first_seed=3,
        gif_path=str(gif),
        progress=lambda done, total, **values: calls.append((done, total, values)),
    )
    assert result["seeds"] == [3, 5] and result["successes"] == [True, True]
    assert result["success_rate"] == 100.0 and result["steps"] == [1, 1]
    assert result["steps_per_episode"] == 1.0
    assert calls == [(1, 2, {"success_rate": 100.0}), (2, 2, {"success_rate": 100.0})]
    assert gif.stat().st_size > 1000


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="`first_seed` must be odd"):
        evaluate_oracle("block-insertion", 1, first_seed=2)
    with pytest.raises(ValueError, match="Unknown Ravens task"):
        evaluate_oracle("nope", 1)
