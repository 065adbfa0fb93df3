"""LLM plugin for pricer: summaries, LLM price predictors and a real local model server."""

__version__ = "0.1.0"
