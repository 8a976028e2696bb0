"""The pipeline's entry points, one per stage of dvc.yaml, run as `python -m stages.<name>`."""

from dae.process import setup_entry_point

# Python imports this package before any stage: the setup comes before NumPy and TensorFlow load.
setup_entry_point()
