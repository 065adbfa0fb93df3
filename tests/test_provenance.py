"""results.json's provenance: the versions that move figures, and the lock they are compared with."""

import hashlib

from pricer_core.bench.provenance import LOCK_FILE, library_versions, lock_report, read_lock, same_version, source_root


def test_the_versions_name_python_the_libraries_that_move_figures_and_the_plugins():
    versions = library_versions({"pricer-classic": "0.4.0"})
    assert {"python", "numpy", "scikit-learn", "pydantic"} <= set(versions)
    assert versions["pricer-classic"] == "0.4.0"


def test_a_lock_is_read_as_pip_reads_its_pins(tmp_path):
    lock = tmp_path / "constraints.txt"
    lock.write_text("# comment\nnumpy==2.4.6\nScikit_Learn==1.9.1  # trailing\ntorch==2.13.0\n-e ./x\nbad line\nsome-lib>=1\nscipy == 1.17.1\nexact===1.0\nuvicorn[standard]==0.55.0\n")
    assert read_lock(lock) == {"numpy": "2.4.6", "scikit-learn": "1.9.1", "torch": "2.13.0", "scipy": "1.17.1", "uvicorn": "0.55.0"}
    assert same_version("2.13.0+cpu", "2.13.0") and not same_version("2.13.1", "2.13.0") and not same_version("2.13.0", "2.13.0+cu121")


def test_the_lock_report_names_every_version_that_differs_and_hashes_the_file(tmp_path):
    lock = tmp_path / "constraints.txt"
    lock.write_text("numpy==1.0.0\nscikit-learn==9.9\n")
    report = lock_report({"numpy": "1.0.0", "scikit-learn": "1.9.1", "python": "3.12.0"}, lock)
    assert report["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert report["differs"] == {"scikit-learn": {"installed": "1.9.1", "locked": "9.9"}}


def test_no_lock_beside_the_code_is_none_not_an_error(tmp_path):
    assert lock_report({"numpy": "1"}, tmp_path / "absent.txt") is None


def test_this_checkout_installs_through_its_lock():
    """The committed figures were made on the locked versions: the lock must pin what moves them."""
    pins = read_lock(source_root() / LOCK_FILE)
    assert {"numpy", "scipy", "scikit-learn", "xgboost-cpu", "torch", "sentence-transformers", "transformers", "tokenizers"} <= set(pins)


def test_the_leaderboard_says_when_the_install_is_not_the_locked_one():
    from pricer_core.bench.runner import leaderboard_lines

    results = {"predictors": [], "lock": {"file": LOCK_FILE, "sha256": "0", "differs": {"xgboost-cpu": {"installed": "3.3.0", "locked": "3.2.0"}}}}
    assert leaderboard_lines(results)[-1].startswith("note: not the locked versions (xgboost-cpu 3.3.0 (locked 3.2.0))")
    assert not any(line.startswith("note:") for line in leaderboard_lines({**results, "lock": {**results["lock"], "differs": {}}}))
