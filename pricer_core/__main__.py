"""`python -m pricer_core` is `pricer`."""

from pricer_core.cli.commands import main

if __name__ == "__main__":
    main()
