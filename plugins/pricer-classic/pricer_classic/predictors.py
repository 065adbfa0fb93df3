"""The course's step-3 baselines as pricer predictors, each with a `default` and a `course` preset.

`course` reproduces the course notebook (1000-word bag of words, raw dollar target, random forest
100 trees, XGBoost 1000 trees at learning rate 0.1) so the side-by-side comparison is one flag away.
`default` is what we recommend on ~15k rows and 2 cores: hashed TF-IDF, item metadata with the
row's source, and a compressed target (log or square root) because prices span three decades.

The predictors live in `linear.py` and `trees.py`, their shared plumbing in `base.py` and the
trees' columns in `tree_features.py`; this module is where users import them from.
"""

from .base import CONFIG_FILE, ClassicPredictor
from .linear import BagOfWordsLinear, LinearPredictor
from .tree_features import BRAND_PRICES_FILE, EMBEDDING_RIDGE_FILE, TEXT_RIDGE_DIR, TEXT_RIDGE_FOLDS, DenseTreeFeatures
from .trees import XGBOOST_DEFAULT, RandomForestPredictor, XGBoostPredictor

__all__ = [
    "BRAND_PRICES_FILE", "CONFIG_FILE", "EMBEDDING_RIDGE_FILE", "TEXT_RIDGE_DIR", "TEXT_RIDGE_FOLDS", "XGBOOST_DEFAULT",
    "BagOfWordsLinear", "ClassicPredictor", "DenseTreeFeatures", "LinearPredictor", "RandomForestPredictor", "XGBoostPredictor",
]
