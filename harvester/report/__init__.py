"""The run report and the metadata quality score.

build (the report's data, its files), text (for a terminal), html (a self-contained page from
the Jinja2 templates in templates/), labels (its Dutch/English words), scrub (secrets kept out
of every form) and quality (the MQA score per dataset and for the catalogue).
"""
