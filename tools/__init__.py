"""Commands for users, run as `python -m tools.<name>`."""

from dae.process import setup_entry_point

# Python imports this package before any tool: the setup comes before NumPy and TensorFlow load.
setup_entry_point()
