"""Entry point of the pricer-classic plugin."""

from pricer_core import hookimpl

from .predictors import BagOfWordsLinear, LinearPredictor, RandomForestPredictor, XGBoostPredictor
from .stacking import StackedBagOfWords


@hookimpl
def register_predictors(register) -> None:
    register(LinearPredictor)
    register(BagOfWordsLinear)
    register(RandomForestPredictor)
    register(XGBoostPredictor)
    register(StackedBagOfWords)
