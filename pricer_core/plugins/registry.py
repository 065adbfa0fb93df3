"""Find plugins through entry points, load each in isolation, and collect what they register.

Whatever a plugin raises while it imports or runs a hook (any exception, `SystemExit` or its own
`KeyboardInterrupt`; the user's Ctrl-C still stops the command) is reported on that plugin's
record (see `pricer plugins`) and the others still load. The first registration of a name wins; a
later one is skipped and reported on its plugin's record, whose other registrations still load.
`PRICER_PLUGINS_STRICT=1` turns any of these, clashes included, into a PluginError;
`PRICER_PLUGINS=a,b` loads only the named entry points; `PRICER_DEBUG=1` prints each plugin's
name to stderr before it loads and its time after, so a plugin that hangs is named.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from pricer_core.plugins import hookspecs
from pricer_core.settings import debug

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

    def create(self, /, **overrides: Any) -> Any:
        """Build it with these settings; an unknown or wrongly typed one is a ValueError naming it."""
        from pricer_core.contract.predictor import check_settings

        settings = {**self.defaults, **overrides}
        check_settings(self.name, self.factory, settings)
        return self.factory(**settings)

    @property
    def needs(self):
        from pricer_core.contract.predictor import Needs

        return getattr(self.factory, "needs", Needs())


@dataclass
class PluginRecord:
    """What `pricer plugins` shows for one plugin.

    `error` holds every problem, "; "-separated: a failed import, a hook that raised, a name
    another plugin registered first. `import_seconds` is the entry point's import (None for a
    plugin registered in-process); `load_seconds` adds the time its hooks took.
    """

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    predictors: list[str] = field(default_factory=list)
    preprocessors: list[str] = field(default_factory=list)
    error: str | None = None
    commands: list[str] = field(default_factory=list)
    import_seconds: float | None = None
    load_seconds: float | None = None

    def add_error(self, message: str) -> None:
        self.error = f"{self.error}; {message}" if self.error else message


@dataclass
class PluginSet:
    plugins: list[PluginRecord]
    predictors: dict[str, Registration]
    preprocessors: dict[str, Registration]

    def errors(self) -> list[PluginRecord]:
        return [record for record in self.plugins if record.error]


# Import outcome of each entry point (and the core), and of each plugin's register_commands hook.
_entry_point_records: dict[str, PluginRecord] = {}
_command_records: dict[str, PluginRecord] = {}
_entry_points_loaded = False


def strict_mode() -> bool:
    return os.environ.get("PRICER_PLUGINS_STRICT", "").strip().lower() in {"1", "true", "yes"}


def _selected_names() -> set[str] | None:
    chosen = os.environ.get("PRICER_PLUGINS", "").strip()
    return {name.strip() for name in chosen.split(",") if name.strip()} if chosen else None


def _debug(message: str) -> None:
    if debug():
        print(message, file=sys.stderr, flush=True)


def _describe(error: BaseException) -> str:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if not frame.filename.startswith("<frozen")]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    try:
        message = str(error)
    except Exception:  # a hostile __str__ must not break the report
        message = "(unprintable)"
    return f"{type(error).__name__}: {message}{where}" if message else f"{type(error).__name__}{where}"


@contextmanager
def _watching_ctrl_c() -> Iterator[list[bool]]:
    """Note a real Ctrl-C, so that it still stops the command while a plugin's own KeyboardInterrupt is reported."""
    pressed: list[bool] = []
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    if not callable(previous):  # other threads never get Ctrl-C; SIG_IGN/SIG_DFL raise nothing to tell apart
        yield pressed
        return

    def on_ctrl_c(signum: int, frame: Any) -> None:
        pressed.append(True)
        previous(signum, frame)

    signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield pressed
    finally:
        if signal.getsignal(signal.SIGINT) is on_ctrl_c:  # leave a handler the plugin installed alone
            signal.signal(signal.SIGINT, previous)


def _guarded(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    """Run one piece of plugin code; return what it raised (None if nothing) and the seconds it took."""
    started = time.perf_counter()
    with _watching_ctrl_c() as pressed:
        try:
            call()
        except BaseException as error:  # SystemExit from a plugin must not end pricer
            if pressed:
                raise
            return error, time.perf_counter() - started
    return None, time.perf_counter() - started


def _fail(record: PluginRecord, problems: list[str], error: BaseException | None = None) -> None:
    """Add the problems to the plugin's record; under strict mode raise them."""
    for problem in problems:
        record.add_error(problem)
    if problems and strict_mode():
        raise PluginError(f"plugin {record.name}: {'; '.join(problems)}") from error


def reset() -> None:
    """Unregister every entry-point plugin and forget what was loaded; the next load finds them again."""
    global _entry_points_loaded
    for name in list(_entry_point_records):
        if pm.has_plugin(name):
            pm.unregister(name=name)
    _entry_point_records.clear()
    _command_records.clear()
    _entry_points_loaded = False


def load_entry_points(force: bool = False) -> None:
    """Import every entry point of the group once; failures are recorded, not raised (unless strict)."""
    global _entry_points_loaded
    if force:
        reset()
    if _entry_points_loaded:
        return
    _entry_points_loaded = True  # before importing anything, so a plugin calling collect() cannot recurse
    try:
        _load_entry_points()
    except PluginError:
        _entry_points_loaded = False  # strict mode: the next call retries the failed ones and raises again
        raise


def _load_entry_points() -> None:
    """Every plugin's entry point, the core's own first (pricer's pyproject declares it like any plugin's).

    The registry imports no predictor itself: it knows plugins only by their entry points, so the
    predictors (the ensemble among them) may use the registry without a knot."""
    selected = _selected_names()
    seen: dict[str, str | None] = {}
    # pricer's own entry point first; another distribution's entry point of the same name is then a clash, never the core
    found = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda entry_point: not _is_core(entry_point))
    if not any(_is_core(entry_point) for entry_point in found) and not pm.has_plugin(CORE_PLUGIN):
        record = _entry_point_records.setdefault(CORE_PLUGIN, PluginRecord(CORE_PLUGIN, "pricer", _version("pricer")))
        problem = "pricer's own entry point is not installed: pip install -e . in the checkout"
        if problem not in (record.error or ""):
            record.add_error(problem)
        if strict_mode():  # every call, so strict mode's retry raises again
            raise PluginError(f"plugin {CORE_PLUGIN}: {problem}")
    for entry_point in found:
        name = entry_point.name
        if selected is not None and name not in selected and name != CORE_PLUGIN:  # the core always loads
            continue
        distribution = entry_point.dist.name if entry_point.dist else None
        if name in seen:
            _fail(_entry_point_records[name], [f"{distribution or 'another distribution'} also has an entry point {name!r}; it was not loaded"])
            continue
        seen[name] = distribution
        record = PluginRecord(name, distribution, entry_point.dist.version if entry_point.dist else None)
        if pm.has_plugin(name):  # loaded before (strict mode's retry): keep what it recorded then
            _entry_point_records.setdefault(name, record)
            continue
        _entry_point_records[name] = record
        _debug(f"loading plugin {name} ...")
        error, seconds = _guarded(lambda: pm.register(entry_point.load(), name=name))
        record.import_seconds = round(seconds, 4)
        if error is None:
            _debug(f"plugin {name} loaded in {seconds:.2f}s")
        else:
            _debug(f"plugin {name} failed in {seconds:.2f}s: {_describe(error)}")
            _fail(record, [f"failed to load: {_describe(error)}"], error)


def _is_core(entry_point: Any) -> bool:
    return entry_point.name == CORE_PLUGIN and entry_point.dist is not None and entry_point.dist.name == "pricer"


def entry_point_names() -> set[str]:
    """Plugins found through entry points (and the core): a spawned process finds these again itself."""
    load_entry_points()
    return set(_entry_point_records)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _implementations(hook_name: str) -> list[Any]:
    """A hook's implementations in the order their plugins were registered, the core first.

    pluggy orders them by tryfirst/trylast; registration order is what "first wins" means here.
    """
    order = {name: index for index, (name, _) in enumerate(pm.list_name_plugin())}
    impls = [impl for impl in getattr(pm.hook, hook_name).get_hookimpls() if not (impl.wrapper or impl.hookwrapper)]
    return sorted(impls, key=lambda impl: (impl.plugin_name != CORE_PLUGIN, order.get(impl.plugin_name, len(order))))


def _call_hook(impl: Any, hook_name: str, **arguments: Any) -> tuple[BaseException | None, float]:
    """Call one plugin's hook in isolation; return what it raised (None if nothing) and the seconds it took."""
    _debug(f"calling plugin {impl.plugin_name} {hook_name} ...")
    error, seconds = _guarded(lambda: impl.function(*(arguments[name] for name in impl.argnames)))
    _debug(f"plugin {impl.plugin_name} {hook_name} done in {seconds:.2f}s")
    return error, seconds


def _registrar(plugin: str, kind: str, registry: dict[str, Registration], problems: list[str]) -> Callable[..., None]:
    """The `register` callback one plugin's hook gets: first registration of a name wins."""

    def register(factory: Callable[..., Any], name: str | None = None, description: str = "", **defaults: Any) -> None:
        registered_name = name or getattr(factory, "name", "") or getattr(factory, "__name__", "")
        if not registered_name or not isinstance(registered_name, str):
            problems.append(f"a {kind} registered without a name ({factory!r}) was skipped")
        elif registered_name in registry:
            problems.append(f"{kind} {registered_name!r} is already registered by {registry[registered_name].plugin}; this one was skipped")
        else:
            doc = description or (getattr(factory, "__doc__", None) or "").strip().split("\n")[0]
            registry[registered_name] = Registration(registered_name, kind, factory, plugin, doc, defaults)

    return register


def collect() -> PluginSet:
    """Call every plugin's hooks, each in isolation, and gather the registrations."""
    load_entry_points()
    records: dict[str, PluginRecord] = {}
    for name, loaded in _entry_point_records.items():
        records[name] = PluginRecord(
            name, loaded.distribution, loaded.version, error=loaded.error,
            import_seconds=loaded.import_seconds, load_seconds=loaded.import_seconds or 0.0,
        )
    for name, _plugin in pm.list_name_plugin():
        records.setdefault(name, PluginRecord(name, load_seconds=0.0))
    for hook_name in hookspecs.HOOK_SIGNATURES:
        for impl in _implementations(hook_name):
            records[impl.plugin_name].hooks.append(hook_name)
    for name, outcome in _command_records.items():
        if name in records:
            records[name].commands = list(outcome.commands)
            records[name].load_seconds += outcome.load_seconds or 0.0
            if outcome.error:
                records[name].add_error(outcome.error)
    registries: dict[str, dict[str, Registration]] = {"predictor": {}, "preprocessor": {}}
    for hook_name, kind in (("register_predictors", "predictor"), ("register_preprocessors", "preprocessor")):
        registry = registries[kind]
        for impl in _implementations(hook_name):
            record = records[impl.plugin_name]
            problems: list[str] = []
            before = set(registry)
            error, seconds = _call_hook(impl, hook_name, register=_registrar(impl.plugin_name, kind, registry, problems))
            record.load_seconds = round(record.load_seconds + seconds, 4)
            if error is not None:
                problems.insert(0, f"{hook_name} raised {_describe(error)}")
            _fail(record, problems, error)
            added = [name for name in registry if name not in before]
            (record.predictors if kind == "predictor" else record.preprocessors).extend(added)
    return PluginSet(list(records.values()), registries["predictor"], registries["preprocessor"])


def add_commands(cli: Any) -> list[str]:
    """Call every plugin's register_commands(cli), each in isolation; return one line per problem.

    A command name that is already taken (a built-in one or an earlier plugin's) keeps its first
    owner; the later command is dropped and reported.
    """
    load_entry_points()
    commands = getattr(cli, "commands", None)
    owners = {name: CORE_PLUGIN for name in commands} if isinstance(commands, dict) else {}
    lines: list[str] = []
    for impl in _implementations("register_commands"):
        name = impl.plugin_name
        record = _command_records.setdefault(name, PluginRecord(name, load_seconds=0.0))
        before = dict(commands) if isinstance(commands, dict) else {}
        error, seconds = _call_hook(impl, "register_commands", cli=cli)
        record.load_seconds = round((record.load_seconds or 0.0) + seconds, 4)
        problems = [f"register_commands raised {_describe(error)}"] if error is not None else []
        if isinstance(commands, dict):
            for command_name, command in list(commands.items()):
                if command_name not in before:
                    owners[command_name] = name
                    record.commands.append(command_name)
                elif command is not before[command_name]:
                    commands[command_name] = before[command_name]
                    problems.append(f"command {command_name!r} is already registered by {owners[command_name]}; this one was skipped")
            for command_name, command in before.items():
                if command_name not in commands:
                    commands[command_name] = command
                    problems.append(f"it removed command {command_name!r} of {owners[command_name]}, which was put back")
        lines.extend(f"plugin {name}: {problem}" for problem in problems)
        _fail(record, problems, error)
    return lines


def requirements(plugin_set: PluginSet) -> list[str]:
    """pip lines that reproduce the installed plugin distributions."""
    lines = {
        f"{record.distribution}=={record.version}"
        for record in plugin_set.plugins
        if record.distribution and record.version
    }
    return sorted(lines)
