"""Entry point of the pricer-dnn plugin."""

from pricer_core import hookimpl

from .predictor import DnnPredictor
from .sparse_mlp import SparseMlpPredictor


@hookimpl
def register_predictors(register) -> None:
    register(DnnPredictor)
    register(SparseMlpPredictor)
