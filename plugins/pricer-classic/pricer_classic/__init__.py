"""Classic predictors for pricer: fast, honest baselines on hashed text and item metadata."""

__version__ = "0.4.0"
