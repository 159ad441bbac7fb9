"""spconv side of `benchmarks/sparse_conv.py`, run by a separate venv that has torch + spconv.

Never imported by keras-suite and never a dependency: `benchmarks/sparse_conv.py
--spconv-python PATH` runs it as a subprocess with that interpreter. It reads voxel coordinates
(int32, (num_voxels, 3)) from a `.npy` file, times spconv's `SubMConv3d` forward with the
indice (kernel map) build included on a fresh `SparseConvTensor` each call, and prints one JSON
line: `{"seconds": best time, "pairs": pairs spconv stores, ...}` (for a submanifold
conv spconv stores one list per mirrored offset pair and skips the centre, so about half of the
scene's neighbour pairs).

It lives in a sub-folder so that `make bench` (every `benchmarks/*.py`) does not run it.

Run: `python sparse_conv_spconv.py COORDS.npy [--channels 64] [--threads 2] [--repeats 3]`.
"""

import argparse
import json
import time

import numpy as np
import spconv
import spconv.pytorch as spconv_torch
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("coords")
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    xyz = np.load(args.coords).astype("int32")
    indices = torch.from_numpy(
        np.concatenate([np.zeros((len(xyz), 1), "int32"), xyz], axis=1)
    ).contiguous()
    spatial_shape = (xyz.max(axis=0) + 1).tolist()
    torch.manual_seed(0)
    features = torch.randn(len(xyz), args.channels)
    conv = spconv_torch.SubMConv3d(args.channels, args.channels, 3, bias=False, indice_key="s")
    conv.eval()

    def forward():
        tensor = spconv_torch.SparseConvTensor(features, indices, spatial_shape, 1)
        return conv(tensor)

    with torch.no_grad():
        out = forward()
        pairs = int(out.indice_dict["s"].indice_pair_num.sum())
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            forward().features.numpy()
            times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "seconds": min(times),
                "pairs": pairs,
                "voxels": len(xyz),
                "threads": torch.get_num_threads(),
                "spconv": spconv.__version__,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
