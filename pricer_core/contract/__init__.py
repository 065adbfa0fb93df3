"""The contract every plugin honours: `Predictor`, `Preprocessor`, `Needs`, `NoPrediction`, the one
prediction check (`checks`) that the evaluator, the bench, `pricer train` and the conformance kit
(`testing`, like scikit-learn's `check_estimator`) all use, and the settings checks that read a
predictor's parameters from its `__init__` signature. Start here to write a plugin."""
