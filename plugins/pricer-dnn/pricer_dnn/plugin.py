"""Entry point of the pricer-dnn plugin."""

from pricer_core import hookimpl

from .predictor import DnnPredictor


@hookimpl
def register_predictors(register) -> None:
    register(DnnPredictor)
