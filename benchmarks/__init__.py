"""Benchmarks of the job an operator runs (see benchmarks/job.py)."""
