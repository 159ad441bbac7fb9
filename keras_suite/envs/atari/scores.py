"""Human-normalized Atari scores: the aggregates reported by DreamerV2."""

import json
import os

import numpy as np

_TABLE_PATH = os.path.join(os.path.dirname(__file__), "atari_reference_scores.json")
with open(_TABLE_PATH) as _file:
    REFERENCE_SCORES = json.load(_file)["games"]
"""ALE ROM id -> `{"random", "human_gamer", "human_record"}` for the 55 benchmark games."""


def normalize_score(game, score, reference="human_gamer"):
    """`(score - random) / (reference - random)` for one game.

    Args:
        game: an ALE ROM id such as `"pong"` or `"jamesbond"`.
        score: the raw score.
        reference: `"human_gamer"` or `"human_record"`.

    Returns:
        The normalized score as a float (1 means the reference score, 0 random play).
    """
    if game not in REFERENCE_SCORES:
        raise ValueError(
            f"Unknown Atari game {game!r}: expected one of the 55 ALE ROM ids of the benchmark "
            f"(e.g. 'pong', 'jamesbond', 'montezuma_revenge'). Received: game={game!r}"
        )
    if reference not in ("human_gamer", "human_record"):
        raise ValueError(
            '`reference` must be "human_gamer" or "human_record". '
            f"Received: reference={reference!r}"
        )
    row = REFERENCE_SCORES[game]
    return (float(score) - row["random"]) / (row[reference] - row["random"])


def _aggregate_one(scores):
    gamer = np.array([normalize_score(g, s, "human_gamer") for g, s in scores.items()])
    record = np.array([normalize_score(g, s, "human_record") for g, s in scores.items()])
    return {
        "gamer_median": float(np.median(gamer)),
        "gamer_mean": float(np.mean(gamer)),
        "record_mean": float(np.mean(record)),
        "clipped_record_mean": float(np.mean(np.minimum(record, 1.0))),
    }


def aggregate_scores(scores):
    """Aggregates raw Atari scores the way DreamerV2 reports them.

    DreamerV2 (Hafner et al., 2021) argues for the clipped record mean: each game's score is
    normalized by the human world record and clipped at 1, so that no single game dominates.
    This returns it together with the classic gamer-normalized median and mean and the
    unclipped record mean, over the games given. When a game maps to a list of per-seed scores,
    every seed is aggregated on its own (seed i of every game together) and the aggregates are
    averaged over seeds, as the paper recommends.

    Args:
        scores: dict from ALE ROM id (`"pong"`, `"jamesbond"`, ...) to a raw score, or to a list
            of raw scores, one per seed (the same number for every game).

    Returns:
        A dict with `gamer_median`, `gamer_mean`, `record_mean` and `clipped_record_mean`.

    Example:

    ```python
    aggregate_scores({"pong": 20.0, "breakout": 400.0})
    aggregate_scores({"pong": [19.0, 21.0], "breakout": [350.0, 420.0]})
    ```
    """
    if not isinstance(scores, dict) or not scores:
        raise ValueError(
            "`scores` must be a non-empty dict from ALE ROM id to score(s). "
            f"Received: scores={scores!r}"
        )
    lengths = {
        g: len(s) if isinstance(s, list | tuple | np.ndarray) else None for g, s in scores.items()
    }
    if all(n is None for n in lengths.values()):
        return _aggregate_one(scores)
    if None in lengths.values() or len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise ValueError(
            "Per-seed `scores` need a non-empty list of the same length for every game. "
            f"Received: lengths={lengths}"
        )
    seeds = next(iter(lengths.values()))
    per_seed = [_aggregate_one({g: s[i] for g, s in scores.items()}) for i in range(seeds)]
    return {key: float(np.mean([agg[key] for agg in per_seed])) for key in per_seed[0]}
