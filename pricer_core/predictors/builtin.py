"""The core's own predictors, registered through the same hook as any plugin's."""

from __future__ import annotations

from pricer_core.plugins.hookspecs import hookimpl


@hookimpl
def register_predictors(register) -> None:
    from pricer_core.predictors.baselines import ConstantMean, ConstantMedian, UniformRandom
    from pricer_core.predictors.ensemble import Ensemble

    register(ConstantMean)
    register(ConstantMedian)
    register(UniformRandom)
    register(Ensemble)
