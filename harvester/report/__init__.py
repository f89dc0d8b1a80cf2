"""The run report and the metadata quality score.

build (the report of a sync run, its files written as streams), entries (one dataset's compact
entry and the "needs a person" list), sections (the datasets in the order a person reads them),
files (atomic files, the streaming JSON writer, a stored report with its packages), text (for a
terminal), html (a self-contained page from the Jinja2 templates in templates/), labels (its
Dutch/English words), scrub (secrets kept out of every form) and quality (the MQA score per
dataset and for the catalogue).
"""
