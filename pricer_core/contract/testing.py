"""Moved to `pricer_core.testing` (the kit) and `pricer_core.hostile` (crafted pickles).

Kept so plugins written against this path keep working; new code imports from the new places.
"""

from pricer_core.hostile import CodeOnLoad, crafted_pickle  # noqa: F401
from pricer_core.testing import (  # noqa: F401
    PREDICTOR_RULES,
    ConformanceError,
    assert_clear_error,
    check_predictor,
    parametrize_with_checks,
    tiny_data,
)
