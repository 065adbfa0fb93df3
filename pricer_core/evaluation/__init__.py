"""Judging predictions: the evaluator that runs a predictor on items with their prices hidden and
scores it (`evaluator`), dollar metrics, bootstrap and paired intervals (`metrics`), and
split-conformal price intervals (`conformal`)."""
