"""A stand-in for data.overheid.nl's CKAN validators (see plugin.py)."""
