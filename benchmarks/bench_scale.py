"""The DNN at the seed's scale: 800,000 synthetic items, hashed, trained for a slice of an epoch, predicted.

    python benchmarks/bench_scale.py [--rows 800000] [--presets default seed] [--device cpu|cuda]

Items are the bundle's training items recombined (the title of one, the text of another, a
source and category of a third), so no two of the first 800k rows repeat one another. Each preset
runs in its own process so its peak host RSS is its own. Printed per preset: hashing rows/s and
the input's size, training samples/s over `--steps` steps of the preset's batch, prediction rows/s
over `--predict-rows` rows, and peak host RSS after each stage (the last includes model state:
weights, gradients and AdamW moments, which on a GPU live in device memory instead).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

CHUNK = 20_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_documents(bundle: list, count: int, start: int, meta_tokens: bool):
    """Documents `start`..`start+count` of the synthetic set, built on the fly (never all in memory)."""
    from pricer_dnn.predictor import document

    size = len(bundle)
    documents, prices = [], []
    for row in range(start, start + count):
        title_of, text_of, meta_of = bundle[row % size], bundle[(row // size + 7 * row) % size], bundle[(row * 31 + 3) % size]
        item = text_of.model_copy(update={"title": title_of.title, "source": meta_of.source, "category": meta_of.category})
        documents.append(document(item, meta_tokens))
        prices.append(text_of.price)
    return documents, np.asarray(prices, dtype=np.float32)


def hash_all(rows: int, settings: dict):
    """SparseRows for every synthetic row, hashed chunk by chunk."""
    from pricer_core.data.loading import load_bundle
    from pricer_dnn.sparse_rows import SparseRows, hash_texts

    bundle = load_bundle().train
    indptrs, indices, prices, offset = [np.zeros(1, dtype=np.int64)], [], [], 0
    for start in range(0, rows, CHUNK):
        documents, chunk_prices = synthetic_documents(bundle, min(CHUNK, rows - start), start, settings["meta_tokens"])
        chunk = hash_texts(documents, settings["n_features"])
        indptrs.append(chunk.indptr[1:] + offset)
        offset += int(chunk.indptr[-1])
        indices.append(chunk.indices)
        prices.append(chunk_prices)
    return SparseRows(np.concatenate(indptrs), np.concatenate(indices), settings["n_features"]), np.concatenate(prices)


def worker(preset: str, rows: int, steps: int, predict_rows: int, device_name: str) -> dict:
    import torch

    from pricer_dnn.config import NetConfig, Standardiser, TrainConfig
    from pricer_dnn.model import ResidualPricer, parameter_count
    from pricer_dnn.predictor import NET_KEYS, PRESETS, TRAIN_KEYS
    from pricer_dnn.training import _autocast, predict_standardised

    settings = PRESETS[preset]
    device = torch.device(device_name)
    result: dict = {"preset": preset, "rows": rows, "device": device_name}
    started = time.perf_counter()
    sparse, prices = hash_all(rows, settings)
    seconds = time.perf_counter() - started
    result.update(hash_rows_per_s=rows / seconds, input_mb=sparse.nbytes() / 2**20, rss_after_hash_mb=peak_rss_mb())
    distinct = len({tuple(sparse.indices[sparse.indptr[r] : sparse.indptr[r + 1]]) for r in range(0, min(rows, 50_000))})
    result["distinct_of_first_50k"] = distinct

    config = TrainConfig(**{key: value for key, value in settings.items() if key in TRAIN_KEYS})
    torch.manual_seed(0)
    model = ResidualPricer(NetConfig(**{key: value for key, value in settings.items() if key in NET_KEYS})).to(device)
    result["parameters"] = parameter_count(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    targets = torch.from_numpy(Standardiser.fit(prices.astype(np.float64)).encode(prices.astype(np.float64)))
    order = np.random.default_rng(0).permutation(rows)
    model.train()

    def step(position: int) -> None:
        picked = order[position * config.batch_size : (position + 1) * config.batch_size]
        indices, offsets = sparse.batch(picked, device)
        optimiser.zero_grad(set_to_none=True)
        with _autocast(device, config.amp):
            loss = torch.nn.functional.l1_loss(model(indices, offsets).float(), targets[picked].to(device))
        loss.backward()
        optimiser.step()

    step(0)  # warm-up: allocations and AdamW state
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for position in range(1, steps + 1):
        step(position)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    result.update(train_samples_per_s=steps * config.batch_size / seconds, rss_after_train_mb=peak_rss_mb())
    epoch_hours = rows / result["train_samples_per_s"] / 3600
    result["epoch_hours_projected"] = epoch_hours

    sample = np.sort(order[:predict_rows])
    started = time.perf_counter()
    predict_standardised(model, _Subset(sparse, sample), device, amp=config.amp)
    result.update(predict_rows_per_s=predict_rows / (time.perf_counter() - started), rss_after_predict_mb=peak_rss_mb())
    return result


class _Subset:
    """The rows `sample` of SparseRows, in the interface predict_standardised reads."""

    def __init__(self, rows, sample: np.ndarray):
        self.rows, self.sample = rows, sample

    def __len__(self) -> int:
        return self.sample.size

    def batch(self, picked: np.ndarray, device):
        return self.rows.batch(self.sample[picked], device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=800_000)
    parser.add_argument("--presets", nargs="+", default=["default", "course"])
    parser.add_argument("--steps", type=int, default=0, help="timed training steps (default: 200 for default, 8 for seed on CPU)")
    parser.add_argument("--predict-rows", type=int, default=0, help="rows to predict (default: 20000 for default, 512 for seed on CPU)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        preset, rows, steps, predict_rows, device = args.worker
        print(json.dumps(worker(preset, int(rows), int(steps), int(predict_rows), device)))
        return
    import os

    print(f"{args.rows} synthetic rows, device {args.device}, {os.cpu_count()} CPU cores")
    header = f"{'preset':<8} {'params':>11} {'hash rows/s':>12} {'input MB':>9} {'RSS hash':>9} {'train smp/s':>12} {'RSS train':>10} {'epoch h':>8} {'pred rows/s':>12} {'RSS pred':>9}"
    print(header)
    for preset in args.presets:
        heavy = preset == "course" and args.device == "cpu"
        steps = args.steps or (8 if heavy else 200)
        predict_rows = args.predict_rows or (512 if heavy else 20_000)
        command = [sys.executable, __file__, "--worker", preset, str(args.rows), str(steps), str(predict_rows), args.device]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        r = json.loads(output.strip().splitlines()[-1])
        print(
            f"{preset:<8} {r['parameters']:>11,} {r['hash_rows_per_s']:>12,.0f} {r['input_mb']:>9.0f} {r['rss_after_hash_mb']:>9.0f} "
            f"{r['train_samples_per_s']:>12,.1f} {r['rss_after_train_mb']:>10.0f} {r['epoch_hours_projected']:>8.2f} "
            f"{r['predict_rows_per_s']:>12,.0f} {r['rss_after_predict_mb']:>9.0f}"
        )
        print(f"         distinct inputs among the first 50k rows: {r['distinct_of_first_50k']:,}")


if __name__ == "__main__":
    main()
