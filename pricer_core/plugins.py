"""Find plugins through entry points, load each in isolation, and collect what they register.

A plugin that fails to import or raises while registering is reported (see `pricer plugins`) and
the others still load; `PRICER_PLUGINS_STRICT=1` turns that into an error, `PRICER_PLUGINS=a,b`
loads only the named entry points.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "pricer"
CORE_PLUGIN = "pricer-core"

pm = pluggy.PluginManager("pricer")
pm.add_hookspecs(hookspecs)


class PluginError(RuntimeError):
    """A plugin failed while PRICER_PLUGINS_STRICT=1."""


@dataclass
class Registration:
    """One predictor or preprocessor a plugin offers: how to build it and where it came from."""

    name: str
    kind: str
    factory: Callable[..., Any]
    plugin: str
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)

    def create(self, **overrides: Any) -> Any:
        return self.factory(**{**self.defaults, **overrides})

    @property
    def needs(self):
        from .predictor import Needs

        return getattr(self.factory, "needs", Needs())


@dataclass
class PluginRecord:
    """What `pricer plugins` shows for one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    predictors: list[str] = field(default_factory=list)
    preprocessors: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class PluginSet:
    plugins: list[PluginRecord]
    predictors: dict[str, Registration]
    preprocessors: dict[str, Registration]

    def errors(self) -> list[PluginRecord]:
        return [record for record in self.plugins if record.error]


_entry_point_records: dict[str, PluginRecord] = {}
_entry_points_loaded = False


def strict_mode() -> bool:
    return os.environ.get("PRICER_PLUGINS_STRICT", "").strip().lower() in {"1", "true", "yes"}


def _selected_names() -> set[str] | None:
    chosen = os.environ.get("PRICER_PLUGINS", "").strip()
    return {name.strip() for name in chosen.split(",") if name.strip()} if chosen else None


def _describe(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" ({frame[0].filename}:{frame[0].lineno})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


def load_entry_points() -> None:
    """Import every entry point of the group once; failures are recorded, not raised (unless strict)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    if not pm.has_plugin(CORE_PLUGIN):
        from . import baselines

        pm.register(baselines, name=CORE_PLUGIN)
        _entry_point_records[CORE_PLUGIN] = PluginRecord(CORE_PLUGIN, "pricer", _version("pricer"))
    selected = _selected_names()
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if selected is not None and entry_point.name not in selected:
            continue
        distribution = entry_point.dist.name if entry_point.dist else None
        record = PluginRecord(entry_point.name, distribution, entry_point.dist.version if entry_point.dist else None)
        _entry_point_records[entry_point.name] = record
        if pm.has_plugin(entry_point.name):
            continue
        try:
            pm.register(entry_point.load(), name=entry_point.name)
        except Exception as error:  # a broken plugin must not take the others down
            record.error = f"failed to load: {_describe(error)}"
            if strict_mode():
                raise PluginError(f"plugin {entry_point.name}: {record.error}") from error


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def collect() -> PluginSet:
    """Call every plugin's hooks, each in isolation, and gather the registrations."""
    load_entry_points()
    records: dict[str, PluginRecord] = {}
    for name, record in _entry_point_records.items():
        records[name] = PluginRecord(name, record.distribution, record.version, error=record.error)
    registries: dict[str, dict[str, Registration]] = {"predictor": {}, "preprocessor": {}}
    for hook_name, kind in (("register_predictors", "predictor"), ("register_preprocessors", "preprocessor")):
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            record = records.setdefault(impl.plugin_name, PluginRecord(impl.plugin_name))
            record.hooks.append(hook_name)
            registry = registries[kind]

            def register(
                factory: Callable[..., Any],
                name: str | None = None,
                description: str = "",
                _plugin: str = impl.plugin_name,
                _kind: str = kind,
                _registry: dict[str, Registration] = registry,
                **defaults: Any,
            ) -> None:
                registered_name = name or getattr(factory, "name", "") or getattr(factory, "__name__", "")
                if not registered_name:
                    raise ValueError(f"{_kind} registered without a name")
                if registered_name in _registry:
                    raise ValueError(
                        f"{_kind} {registered_name!r} is already registered by {_registry[registered_name].plugin}"
                    )
                doc = description or (factory.__doc__ or "").strip().split("\n")[0]
                _registry[registered_name] = Registration(registered_name, _kind, factory, _plugin, doc, defaults)

            before = set(registry)
            try:
                impl.function(register=register)
            except Exception as error:
                record.error = f"{hook_name} raised {_describe(error)}"
                if strict_mode():
                    raise PluginError(f"plugin {impl.plugin_name}: {record.error}") from error
            added = [name for name in registry if name not in before]
            (record.predictors if kind == "predictor" else record.preprocessors).extend(added)
    return PluginSet(list(records.values()), registries["predictor"], registries["preprocessor"])


def requirements(plugin_set: PluginSet) -> list[str]:
    """pip lines that reproduce the installed plugin distributions."""
    lines = {
        f"{record.distribution}=={record.version}"
        for record in plugin_set.plugins
        if record.distribution and record.version
    }
    return sorted(lines)
