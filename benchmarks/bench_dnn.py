"""DNN memory and speed: our sparse input against the seed's dense input, same net, same rows.

    python benchmarks/bench_dnn.py [--rows 20000] [--steps 10]

Each configuration runs in its own process so peak RSS is its own. Rows are the bundled training
texts repeated to the requested count. Peak RSS at 800k rows is projected from two row counts
(the slope is what the input costs per row; the intercept is model, gradients and optimiser).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def worker(mode: str, preset: str, rows: int, steps: int) -> dict:
    import torch
    from torch import nn

    from pricer_core.data.loading import load_bundle
    from pricer_dnn.config import NetConfig
    from pricer_dnn.model import ResidualPricer
    from pricer_dnn.predictor import PRESETS, document
    from pricer_dnn.sparse_rows import hash_texts

    settings = PRESETS[preset]
    bundle = load_bundle().train
    texts = [document(bundle[i % len(bundle)], settings["meta_tokens"]) for i in range(rows)]
    prices = np.asarray([bundle[i % len(bundle)].price for i in range(rows)], dtype=np.float32)
    hashed = hash_texts(texts, settings["n_features"])
    del texts
    if mode == "dense":
        matrix = hashed.dense()  # what the seed did: the whole N × n_features float32 matrix
        data_bytes = matrix.nbytes
        del hashed
    else:
        data_bytes = hashed.nbytes()
    torch.manual_seed(0)
    model = ResidualPricer(NetConfig(settings["n_features"], settings["width"], settings["depth"], settings["dropout"]))
    dense_input = nn.Linear(settings["n_features"], settings["width"]) if mode == "dense" else None
    if dense_input is not None:
        model.input = None  # the dense layer replaces the sparse one; same parameter count
    optimiser = torch.optim.AdamW([p for p in model.parameters()] + (list(dense_input.parameters()) if dense_input else []), lr=1e-3)
    batch = settings["batch_size"]
    targets = torch.from_numpy(np.log1p(prices))
    rng = np.random.default_rng(0)

    def step():
        picked = rng.integers(0, rows, batch)
        if dense_input is not None:
            hidden = dense_input(torch.from_numpy(matrix[picked]))
            x = model.input_dropout(torch.relu(model.input_norm(hidden)))
            for block in model.blocks:
                x = block(x)
            output = model.output(x).squeeze(-1)
        else:
            output = model(*hashed.batch(picked))
        loss = nn.functional.l1_loss(output, targets[picked])
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()

    step()  # warm-up: allocates optimiser state
    started = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"samples_per_s": steps * batch / seconds, "peak_rss_mb": peak_mb, "input_mb": data_bytes / 2**20}


def run(mode: str, preset: str, rows: int, steps: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--worker", mode, preset, str(rows), str(steps)], capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="rows in the larger run (the smaller is half)")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per configuration")
    parser.add_argument("--presets", nargs="+", default=["default", "course"])
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, preset, rows, steps = args.worker
        print(json.dumps(worker(mode, preset, int(rows), int(steps))))
        return
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CUDA {torch.cuda.is_available()}")
    print(f"{'preset':<8} {'input':<6} {'samples/s':>10} {'input MB':>9} {'peak RSS MB':>12} {'input @800k MB':>15} {'RSS @800k MB':>13}")
    for preset in args.presets:
        for mode in ("sparse", "dense"):
            small = run(mode, preset, args.rows // 2, 2)
            large = run(mode, preset, args.rows, args.steps)
            extra_rows = args.rows - args.rows // 2
            slope = max(large["peak_rss_mb"] - small["peak_rss_mb"], large["input_mb"] - small["input_mb"]) / extra_rows
            projected = large["peak_rss_mb"] + slope * (800_000 - args.rows)
            input_800k = large["input_mb"] / args.rows * 800_000
            print(
                f"{preset:<8} {mode:<6} {large['samples_per_s']:>10.1f} {large['input_mb']:>9.1f} {large['peak_rss_mb']:>12.0f} "
                f"{input_800k:>15.0f} {projected:>13.0f}",
                flush=True,
            )
    print(
        "\nRSS includes the model: the seed net's weights, gradients and AdamW state are ~4.6 GB of fp32 on the CPU."
        "\nOn a GPU they live in GPU memory and host RAM holds the input (the 'input @800k' column) plus the process."
    )


if __name__ == "__main__":
    main()
