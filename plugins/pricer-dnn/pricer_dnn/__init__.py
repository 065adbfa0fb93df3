"""Residual deep network predictor for pricer (SPEC section 5), lean on memory."""

__version__ = "0.1.0"
