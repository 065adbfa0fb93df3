"""The hooks a pricer plugin implements (entry-point group "pricer")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("pricer")
hookimpl = pluggy.HookimplMarker("pricer")

Register = Callable[..., None]


@hookspec
def register_predictors(register: Register) -> None:
    """Call register(factory, name=None, description="") once per predictor the plugin provides."""


@hookspec
def register_preprocessors(register: Register) -> None:
    """Call register(factory, name=None, description="") once per preprocessor the plugin provides."""


HOOK_SIGNATURES: dict[str, str] = {
    "register_predictors": "register_predictors(register)",
    "register_preprocessors": "register_preprocessors(register)",
}
