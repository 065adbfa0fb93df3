"""Shared by every test folder (core, plugins, examples)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def shared_static_tables(tmp_path_factory):
    """One folder for xgboost's distilled static MiniLM table across the session.

    Tests give themselves a cache folder each; the table is derived from the installed weights
    alone, so sharing it is safe, and distilling it once per test (~40 s) is not."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRICER_STATIC_TABLES", str(tmp_path_factory.mktemp("static-tables")))
        yield
