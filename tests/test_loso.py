from pricer_core.bench.loso import folds, loso_lines
from pricer_core.bench.runner import run_bench
from pricer_core.data.loading import load_bundle


def test_each_fold_holds_one_source_out_and_never_uses_the_official_test():
    splits = load_bundle()
    official_test = {item.id for item in splits.test}
    fold_list = folds(splits, sample_size=50)
    assert len(fold_list) == 8  # every bundle source with at least 100 labelled rows
    for source, fold in fold_list:
        assert {item.source for item in fold.test} == {source} and len(fold.test) == 50
        assert source not in {item.source for item in fold.train + fold.validation}
        assert not official_test & {item.id for item in fold.train + fold.validation + fold.test}
        assert len(fold.train) + len(fold.validation) == sum(1 for item in splits.train + splits.validation if item.source != source)


def test_bench_reports_leave_one_source_out_beside_the_official_test(tmp_path):
    results = run_bench(predictors=["constant-mean", "constant-median"], size=30, out=tmp_path, echo=lambda _: None, loso=True)
    loso = results["leave_one_source_out"]
    assert len(loso["sources"]) == 8 and set(loso["sources"].values()) == {30} and loso["sample_size"] == 30
    for entry in loso["predictors"]:
        maes = [score["mae"] for score in entry["sources"]]
        assert entry["mean_mae"] == sum(maes) / len(maes) and all(mae > 0 for mae in maes)
    (pair,) = loso["paired"]
    assert (pair["a"], pair["b"]) == ("constant-mean", "constant-median") and len(pair["ci95"]) == 2
    lines = loso_lines(loso)
    assert lines[3].split()[0] in {"constant-mean", "constant-median"} and len(lines) == 5 + 8
    assert lines[-1].startswith("  #8: ") and "(30 items)" in lines[-1]
    assert "Leave-one-source-out" in (tmp_path / "report.html").read_text()
