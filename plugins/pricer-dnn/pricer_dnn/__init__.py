"""The course's residual deep network as a pricer predictor, lean on memory."""

__version__ = "0.1.0"
