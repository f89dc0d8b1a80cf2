"""Benchmarks of the harvester's pipeline (see benchmarks/pipeline.py)."""
