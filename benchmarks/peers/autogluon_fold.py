"""One fold for AutoGluon, run by the peer's own Python (never the product's): fit, predict, write.

    <autogluon python> autogluon_fold.py FOLD_DIR TIME_LIMIT_S

FOLD_DIR holds train.jsonl, validation.jsonl and test.jsonl (title, category, text, weight, source,
price; the test's price is absent). Writes predictions.json (one price per test row, in order) and
leaderboard.json (AutoGluon's own validation leaderboard, to say which models it chose).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Excluded as the issue measured them: the random forests alone overran a 20-minute limit on 2 cores.
EXCLUDED = ["RF", "XT", "KNN"]


def main() -> None:
    import pandas as pd
    from autogluon.tabular import TabularPredictor

    fold, time_limit = Path(sys.argv[1]), int(sys.argv[2])
    frames = {split: pd.read_json(fold / f"{split}.jsonl", lines=True) for split in ("train", "validation", "test")}
    for frame in frames.values():
        frame["category"] = frame["category"].astype("category")
        frame["source"] = frame["source"].astype("category")
    train = pd.concat([frames["train"], frames["validation"]], ignore_index=True)
    predictor = TabularPredictor(label="price", eval_metric="mean_absolute_error", path=str(fold / "autogluon"), verbosity=0)
    predictor.fit(train, presets="medium_quality", time_limit=time_limit, excluded_model_types=EXCLUDED, num_cpus=2)
    predictions = predictor.predict(frames["test"].drop(columns=["price"], errors="ignore"))
    (fold / "predictions.json").write_text(json.dumps([max(0.0, float(value)) for value in predictions]))
    board = predictor.leaderboard(silent=True)[["model", "score_val"]]
    (fold / "leaderboard.json").write_text(board.to_json(orient="records"))


if __name__ == "__main__":
    main()
