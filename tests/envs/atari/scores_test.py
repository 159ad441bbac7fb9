import numpy as np
import pytest

from keras_suite.envs.atari import REFERENCE_SCORES, aggregate_scores, normalize_score


def test_table_has_the_55_games():
    assert len(REFERENCE_SCORES) == 55
    assert REFERENCE_SCORES["jamesbond"]["human_gamer"] == 303.0
    assert REFERENCE_SCORES["pong"] == {"random": -21.0, "human_gamer": 15.0, "human_record": 21.0}


def test_aggregates_match_hand_computation():
    # pong: random -21, gamer 15, record 21; breakout: 2, 30, 864; boxing: 0, 12, 100.
    scores = {"pong": 21.0, "breakout": 100.0, "boxing": 150.0}
    pong_g, pong_r = 42.0 / 36.0, 1.0
    brk_g, brk_r = 98.0 / 28.0, 98.0 / 862.0
    box_g, box_r = 150.0 / 12.0, 150.0 / 100.0
    out = aggregate_scores(scores)
    assert out["gamer_median"] == pytest.approx(np.median([pong_g, brk_g, box_g]))
    assert out["gamer_mean"] == pytest.approx(np.mean([pong_g, brk_g, box_g]))
    assert out["record_mean"] == pytest.approx(np.mean([pong_r, brk_r, box_r]))
    assert out["clipped_record_mean"] == pytest.approx(np.mean([1.0, brk_r, min(box_r, 1.0)]))


def test_record_mean_is_clipped():
    out = aggregate_scores({"pong": 30.0})
    assert out["record_mean"] == pytest.approx(51.0 / 42.0)
    assert out["clipped_record_mean"] == 1.0


def test_per_seed_aggregation_averages_over_seeds():
    scores = {"pong": [0.0, 10.0], "breakout": [20.0, 200.0], "boxing": [5.0, 90.0]}
    seed0 = aggregate_scores({g: s[0] for g, s in scores.items()})
    seed1 = aggregate_scores({g: s[1] for g, s in scores.items()})
    out = aggregate_scores(scores)
    for key in out:
        assert out[key] == pytest.approx((seed0[key] + seed1[key]) / 2)
    # The median of per-seed medians differs from the median of per-game means here.
    means = {g: float(np.mean(s)) for g, s in scores.items()}
    assert out["gamer_median"] != pytest.approx(aggregate_scores(means)["gamer_median"])


def test_bad_inputs():
    with pytest.raises(ValueError, match="Unknown Atari game"):
        aggregate_scores({"pongg": 1.0})
    with pytest.raises(ValueError, match="same length"):
        aggregate_scores({"pong": [1.0, 2.0], "boxing": [1.0]})
    with pytest.raises(ValueError, match="reference"):
        normalize_score("pong", 1.0, reference="expert")
