"""`python -m pricer_core.cli_entry` is `pricer-bench`, for environments without the console script."""

from .cli import bench_command

if __name__ == "__main__":
    bench_command()
