"""`python -m pricer_core.bench` is `pricer-bench`, for environments without the console script."""

from pricer_core.cli.commands import bench_command

if __name__ == "__main__":
    bench_command()
