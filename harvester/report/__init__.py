"""The run report (JSON and HTML) and the metadata quality score."""
