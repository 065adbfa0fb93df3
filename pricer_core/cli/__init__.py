"""The command line, a thin layer over the Python API (`commands`): `pricer` and `pricer-bench`, every
error one line, `.env` read at start. Heavy modules are imported inside the commands that use them."""
