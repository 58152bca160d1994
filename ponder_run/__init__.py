"""Run Ponder's processes on one machine: ``python -m ponder_run serve|test``."""
