"""The benchmark: `runner.run_bench` plans a run (data, sample, predictors, bad flags fail here), fits
or reuses each predictor from the content-keyed fit cache, scores all on the same items, and
writes typed `results` (results.json), predictions and the `report` (report.html) together.
`python -m pricer_core.bench` is `pricer-bench`."""
