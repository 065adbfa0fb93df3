"""Hostile plugins, installed for real: a dist-info folder on sys.path that importlib.metadata finds."""

import importlib
import json
import re
import signal
import sys
import textwrap

import pytest
from click.testing import CliRunner

from pricer_core.plugins import registry as plugins
from pricer_core.cli.commands import bench_command, main

GOOD = """
    import click
    from pricer_core import hookimpl
    from pricer_core.predictors.baselines import ConstantMedian

    class GoodMedian(ConstantMedian):
        name = "good-median"

    @hookimpl
    def register_predictors(register):
        register(GoodMedian)

    @click.command("good-hello")
    def hello():
        click.echo("hello from good")

    @hookimpl
    def register_commands(cli):
        cli.add_command(hello)
"""

HOOKS_RAISE = """
    from pricer_core import hookimpl
    from pricer_core.predictors.baselines import ConstantMedian

    class Kept(ConstantMedian):
        name = "kept-median"

    @hookimpl
    def register_predictors(register):
        register(Kept)
        raise SystemExit("bye")

    @hookimpl
    def register_preprocessors(register):
        raise KeyboardInterrupt

    @hookimpl
    def register_commands(cli):
        raise SystemExit(4)
"""


def predictors_source(*names: str) -> str:
    """A plugin that registers one constant-mean predictor per name."""
    classes = "".join(f"\n    class P{index}(ConstantMean):\n        name = {name!r}\n" for index, name in enumerate(names))
    calls = "".join(f"\n        register(P{index})" for index in range(len(names)))
    return f"""
    from pricer_core import hookimpl
    from pricer_core.predictors.baselines import ConstantMean
    {classes}
    @hookimpl
    def register_predictors(register):{calls}
"""


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart by itself


@pytest.fixture
def install(tmp_path, monkeypatch):
    """install(entry_name, source): a throwaway plugin distribution; earlier installs are found first.

    Only the installed entry points (and the core) load unless a test widens PRICER_PLUGINS.
    """
    for variable in ("PRICER_PLUGINS_STRICT", "PRICER_DEBUG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    saved_commands, saved_loaded = dict(main.commands), main.__dict__.get("_plugins_loaded")
    main.__dict__.pop("_plugins_loaded", None)  # an earlier test may have loaded the real plugins' commands
    plugins.reset()

    def install_plugin(entry_name: str, source: str, distribution: str | None = None) -> None:
        key = (distribution or entry_name).replace("-", "_")
        folder = tmp_path / key
        info = folder / f"pricer_fake_{key}-0.0.1.dist-info"
        info.mkdir(parents=True)
        (folder / f"pricer_fake_{key}.py").write_text(textwrap.dedent(source))
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pricer-fake-{distribution or entry_name}\nVersion: 0.0.1\n")
        (info / "entry_points.txt").write_text(f"[pricer]\n{entry_name} = pricer_fake_{key}\n")
        sys.path.insert(len(modules), str(folder))
        modules.append(f"pricer_fake_{key}")
        installed.add(entry_name)
        importlib.invalidate_caches()
        monkeypatch.setenv("PRICER_PLUGINS", ",".join(sorted(installed)))

    modules: list[str] = []
    installed: set[str] = set()
    yield install_plugin
    plugins.reset()
    main.commands.clear()
    main.commands.update(saved_commands)
    main.__dict__.pop("_plugins_loaded", None)
    if saved_loaded is not None:
        main._plugins_loaded = saved_loaded
    for module in modules:
        sys.modules.pop(module, None)


def record_of(plugin_set: plugins.PluginSet, name: str) -> plugins.PluginRecord:
    return next(record for record in plugin_set.plugins if record.name == name)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sys\nsys.exit(3)\n", "failed to load: SystemExit: 3 ("),
        ("raise KeyboardInterrupt\n", "failed to load: KeyboardInterrupt ("),
        ("raise RuntimeError('no GPU here')\n", "failed to load: RuntimeError: no GPU here ("),
    ],
)
def test_a_plugin_raising_anything_at_import_is_its_own_error(install, source, expected):
    install("hostile", source)
    install("good", GOOD)
    plugin_set = plugins.collect()
    hostile = record_of(plugin_set, "hostile")
    assert hostile.error.startswith(expected) and "pricer_fake_hostile.py:" in hostile.error
    assert hostile.distribution == "pricer-fake-hostile" and hostile.predictors == []
    assert record_of(plugin_set, "good").error is None
    assert {"constant-mean", "constant-median", "random", "ensemble", "good-median"} <= set(plugin_set.predictors)


def test_every_command_still_works_beside_a_plugin_that_exits_at_import(install):
    install("hostile", "import sys\nsys.exit(3)\n")
    install("good", GOOD)
    listed = runner().invoke(main, ["plugins"])
    assert listed.exit_code == 0, listed.output
    assert "hostile (pricer-fake-hostile 0.0.1) loaded in " in listed.stdout
    assert "  error: failed to load: SystemExit: 3 (" in listed.stdout
    assert "  predictors: good-median" in listed.stdout and "  commands: good-hello" in listed.stdout
    hello = runner().invoke(main, ["good-hello"])
    assert (hello.exit_code, hello.stdout) == (0, "hello from good\n")
    helped = runner().invoke(main, ["--help"])
    assert helped.exit_code == 0 and "good-hello" in helped.stdout and "plugins" in helped.stdout


def test_strict_mode_turns_an_exit_at_import_into_a_plugin_error(install, monkeypatch):
    install("hostile", "import sys\nsys.exit(3)\n")
    monkeypatch.setenv("PRICER_PLUGINS_STRICT", "1")
    with pytest.raises(plugins.PluginError, match=r"^plugin hostile: failed to load: SystemExit: 3"):
        plugins.collect()
    result = runner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 2 and "error: plugin hostile: failed to load: SystemExit: 3" in result.stderr
    assert result.stdout == ""


@pytest.fixture
def ctrl_c_raises():
    """Python's own Ctrl-C handler, as in a terminal: a runner started in the background inherits SIGINT ignored."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if inherited is not None:  # None: set outside Python, nothing to restore
        signal.signal(signal.SIGINT, inherited)


def test_the_users_ctrl_c_during_a_plugin_import_still_stops_the_command(install, ctrl_c_raises):
    install("hangs", "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(10)\n")
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        plugins.load_entry_points()
    assert signal.getsignal(signal.SIGINT) is handler


def test_hooks_raising_systemexit_or_keyboardinterrupt_are_reported(install):
    install("hooks-raise", HOOKS_RAISE)
    install("good", GOOD)
    listed = runner().invoke(main, ["plugins", "--json"])
    assert listed.exit_code == 0, listed.output
    record = next(record for record in json.loads(listed.stdout) if record["name"] == "hooks-raise")
    problems = record["error"].split("; ")
    assert problems[0].startswith("register_commands raised SystemExit: 4 (") and "pricer_fake_hooks_raise.py:" in problems[0]
    assert problems[1].startswith("register_predictors raised SystemExit: bye (")
    assert problems[2].startswith("register_preprocessors raised KeyboardInterrupt (")
    assert record["hooks"] == ["register_predictors", "register_preprocessors", "register_commands"]
    assert record["predictors"] == ["kept-median"] and record["commands"] == []
    plugin_set = plugins.collect()
    assert {"kept-median", "good-median", "constant-mean"} <= set(plugin_set.predictors)
    hello = runner().invoke(main, ["good-hello"])
    assert (hello.exit_code, hello.stdout) == (0, "hello from good\n")


def test_a_command_hook_raising_warns_and_the_cli_still_runs(install):
    install("hooks-raise", HOOKS_RAISE)
    install("good", GOOD)
    result = runner().invoke(main, ["good-hello"])
    assert result.exit_code == 0 and result.stdout == "hello from good\n"
    assert "warning: plugin hooks-raise: register_commands raised SystemExit: 4 (" in result.stderr


def test_strict_mode_turns_a_hook_raising_systemexit_into_a_plugin_error(install, monkeypatch):
    install("hooks-raise", HOOKS_RAISE)
    monkeypatch.setenv("PRICER_PLUGINS_STRICT", "1")
    with pytest.raises(plugins.PluginError, match=r"^plugin hooks-raise: register_predictors raised SystemExit: bye"):
        plugins.collect()
    result = runner().invoke(main, ["good-hello"])
    assert result.exit_code == 2 and "error: plugin hooks-raise: register_commands raised SystemExit: 4" in result.stderr


def test_first_registration_of_a_name_wins_and_the_clash_is_on_the_second_record(install):
    install("first", predictors_source("linear", "first-extra"))
    install("second", predictors_source("linear", "second-extra", "first-extra"))
    plugin_set = plugins.collect()
    first, second = record_of(plugin_set, "first"), record_of(plugin_set, "second")
    assert plugin_set.predictors["linear"].plugin == "first" and plugin_set.predictors["first-extra"].plugin == "first"
    assert plugin_set.predictors["second-extra"].plugin == "second"
    assert (first.predictors, first.error) == (["linear", "first-extra"], None)
    assert second.predictors == ["second-extra"]
    assert second.error == (
        "predictor 'linear' is already registered by first; this one was skipped; "
        "predictor 'first-extra' is already registered by first; this one was skipped"
    )


def test_a_plugin_found_before_classic_taking_linear_leaves_classics_other_predictors(install, monkeypatch):
    pytest.importorskip("pricer_classic")
    install("aaa-linear", predictors_source("linear", "stolen-extra"))
    monkeypatch.setenv("PRICER_PLUGINS", "aaa-linear,classic")
    plugin_set = plugins.collect()
    assert [record.name for record in plugin_set.plugins][:3] == [plugins.CORE_PLUGIN, "aaa-linear", "classic"]
    classic = record_of(plugin_set, "classic")
    assert classic.predictors == ["bow-linear", "random-forest", "xgboost", "bow-stack"]
    assert classic.error == "predictor 'linear' is already registered by aaa-linear; this one was skipped"
    assert plugin_set.predictors["linear"].plugin == "aaa-linear" and plugin_set.predictors["bow-stack"].plugin == "classic"
    assert record_of(plugin_set, "aaa-linear").predictors == ["linear", "stolen-extra"]


def test_strict_mode_makes_a_name_clash_a_plugin_error(install, monkeypatch):
    install("first", predictors_source("linear"))
    install("second", predictors_source("linear", "second-extra"))
    monkeypatch.setenv("PRICER_PLUGINS_STRICT", "1")
    with pytest.raises(plugins.PluginError, match=r"^plugin second: predictor 'linear' is already registered by first"):
        plugins.collect()


def test_a_second_distribution_reusing_an_entry_point_name_is_reported_not_loaded(install):
    install("twin", predictors_source("twin-one"), distribution="twin-a")
    install("twin", predictors_source("twin-two"), distribution="twin-b")
    plugin_set = plugins.collect()
    twin = record_of(plugin_set, "twin")
    assert (twin.distribution, twin.predictors) == ("pricer-fake-twin-a", ["twin-one"])
    assert twin.error == "pricer-fake-twin-b also has an entry point 'twin'; it was not loaded"
    assert "twin-two" not in plugin_set.predictors and "pricer_fake_twin_b" not in sys.modules


def test_a_plugin_command_cannot_replace_a_built_in_one(install):
    install("takeover", """
        import click
        from pricer_core import hookimpl

        @click.command("plugins")
        def fake():
            click.echo("owned")

        @click.command("takeover-extra")
        def extra():
            click.echo("extra")

        @hookimpl
        def register_commands(cli):
            cli.add_command(fake)
            cli.add_command(extra)
            del cli.commands["bench"]
    """)
    result = runner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    record = next(record for record in json.loads(result.stdout) if record["name"] == "takeover")
    assert record["commands"] == ["takeover-extra"]
    assert record["error"] == (
        "command 'plugins' is already registered by pricer-core; this one was skipped; "
        "it removed command 'bench' of pricer-core, which was put back"
    )
    assert main.commands["bench"] is bench_command


SLOW = "import time\ntime.sleep(0.3)\n" + textwrap.dedent(predictors_source("slow-mean"))


def test_debug_names_each_plugin_before_its_import_and_times_it(install, monkeypatch, capsys):
    install("slow", SLOW)
    install("hostile", "import sys\nsys.exit(3)\n")
    monkeypatch.setenv("PRICER_DEBUG", "1")
    plugins.collect()
    lines = capsys.readouterr().err.splitlines()
    assert lines.index("loading plugin slow ...") < lines.index("loading plugin hostile ...")
    loaded = [line for line in lines if line.startswith("plugin slow loaded in ")]
    assert len(loaded) == 1 and lines.index("loading plugin slow ...") < lines.index(loaded[0])
    assert 0.3 <= float(re.fullmatch(r"plugin slow loaded in (\d+\.\d\d)s", loaded[0]).group(1)) < 5
    assert any(line.startswith("plugin hostile failed in ") and "SystemExit: 3" in line for line in lines)
    assert "calling plugin slow register_predictors ..." in lines


def test_debug_lines_come_from_a_command_too_and_not_without_debug(install, monkeypatch):
    install("slow", SLOW)
    quiet = runner().invoke(main, ["plugins"])
    assert quiet.exit_code == 0 and "loading plugin" not in quiet.stderr
    plugins.reset()
    main.__dict__.pop("_plugins_loaded", None)
    monkeypatch.setenv("PRICER_DEBUG", "1")
    result = runner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert "loading plugin slow ...\n" in result.stderr and re.search(r"^plugin slow loaded in \d+\.\d\ds$", result.stderr, re.M)
    assert json.loads(result.stdout)  # debug lines stay off stdout


def test_plugins_json_shows_load_times_and_errors(install):
    install("slow", SLOW)
    install("hostile", "raise KeyboardInterrupt\n")
    result = runner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    records = {record["name"]: record for record in json.loads(result.stdout)}
    slow, hostile = records["slow"], records["hostile"]
    assert 0.3 <= slow["import_seconds"] <= slow["load_seconds"] < 5 and slow["error"] is None
    assert slow["predictors"] == ["slow-mean"]
    assert hostile["error"].startswith("failed to load: KeyboardInterrupt (") and hostile["import_seconds"] < 5
    assert records[plugins.CORE_PLUGIN]["error"] is None and records[plugins.CORE_PLUGIN]["load_seconds"] >= 0
    text = runner().invoke(main, ["plugins"]).stdout
    took = re.search(r"^slow \(pricer-fake-slow 0\.0\.1\) loaded in (\d+\.\d\d)s$", text, re.M)
    assert took and 0.3 <= float(took.group(1)) < 5


def test_bench_help_loads_no_plugin(install, monkeypatch):
    install("slow", SLOW)
    monkeypatch.setenv("PRICER_DEBUG", "1")
    result = runner().invoke(bench_command, ["--help"])
    assert result.exit_code == 0 and "loading plugin" not in result.output
    assert not plugins.pm.has_plugin("slow") and "pricer_fake_slow" not in sys.modules


def test_load_entry_points_force_reloads(install):
    install("good", GOOD)
    plugins.load_entry_points()
    assert plugins.pm.has_plugin("good")
    install("late", predictors_source("late-mean"))
    plugins.load_entry_points()
    assert not plugins.pm.has_plugin("late")
    plugins.load_entry_points(force=True)
    assert plugins.pm.has_plugin("late") and "late-mean" in plugins.collect().predictors
