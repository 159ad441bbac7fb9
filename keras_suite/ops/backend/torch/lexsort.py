"""Lexicographic row sort of two int32 key words with PyTorch, as one int64 key."""

import torch


def lexsort_rows(high, low):
    """Returns the int32 permutation that sorts each row of `(high, low)` pairs.

    Both words are non-negative int32, so `high * 2**31 + low` is an order-preserving int64 key
    and one sort suffices.

    Args:
        high: int32 tensor (batch, n), the major key.
        low: int32 tensor (batch, n), the minor key.

    Returns:
        An int32 tensor (batch, n): row `b` of `high` and `low` taken at it is sorted.
    """
    keys = high.to(torch.int64) * 2**31 + low.to(torch.int64)
    return torch.argsort(keys, dim=1).to(torch.int32)
