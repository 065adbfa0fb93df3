"""The hooks a pricer plugin implements (entry-point group "pricer").

Each hook runs in isolation: whatever it raises is reported on its plugin's record. A name that an
earlier plugin (or the core) already registered keeps its first owner; the later one is skipped.
"""

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


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands or groups to the `pricer` command: cli.add_command(command)."""


HOOK_SIGNATURES: dict[str, str] = {
    "register_predictors": "register_predictors(register)",
    "register_preprocessors": "register_preprocessors(register)",
    "register_commands": "register_commands(cli)",
}
