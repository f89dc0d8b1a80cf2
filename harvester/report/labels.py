"""The report's words: the counts it keeps and the Dutch/English labels its text and page show.

User-facing labels are Dutch first: each table maps a key to (Dutch, English), and `both()`
joins such a pair as "Dutch / English" (one word when the two are the same).
"""

from __future__ import annotations

__all__ = [
    "ACTION_LABELS",
    "COUNT_KEYS",
    "COUNT_LABELS",
    "NEEDS_LABELS",
    "ORIGIN_LABELS",
    "OUTCOME_LABELS",
    "PLANNED_LABELS",
    "SIDE_LABELS",
    "both",
    "label",
]

#: The report's counts, in the order the text and the page list them.
COUNT_KEYS = ("created", "updated", "unchanged", "withdrawn", "conflict", "invalid", "failed",
              "withdraw_held", "skipped")

COUNT_LABELS: dict[str, tuple[str, str]] = {
    "created": ("Aangemaakt", "Created"),
    "updated": ("Bijgewerkt", "Updated"),
    "unchanged": ("Ongewijzigd", "Unchanged"),
    "withdrawn": ("Ingetrokken", "Withdrawn"),
    "conflict": ("Conflict", "Conflict"),
    "invalid": ("Ongeldig", "Invalid"),
    "failed": ("Mislukt", "Failed"),
    "withdraw_held": ("Intrekking tegengehouden", "Withdrawal held back"),
    "skipped": ("Niet gepubliceerd", "Not published"),
}
#: The counts of a dry run: what the plan would do (in COUNT_LABELS' order).
PLANNED_LABELS: dict[str, tuple[str, str]] = {
    **COUNT_LABELS,
    "created": ("Aan te maken", "To create"),
    "updated": ("Bij te werken", "To update"),
    "withdrawn": ("In te trekken", "To withdraw"),
}
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "create": ("aanmaken", "create"),
    "update": ("bijwerken", "update"),
    "unchanged": ("ongewijzigd", "unchanged"),
    "withdraw": ("intrekken", "withdraw"),
    "conflict": ("conflict", "conflict"),
    "invalid": ("ongeldig", "invalid"),
    "skip": ("niet gepubliceerd", "not published"),
}
#: Why a person must look at a dataset, in the order the "needs a person" list sorts them.
NEEDS_LABELS: dict[str, tuple[str, str]] = {
    "conflict": ("Conflict", "Conflict"),
    "invalid": ("Ongeldig", "Invalid"),
    "failed": ("Schrijven mislukt", "Write failed"),
    "withdraw_held": ("Intrekking tegengehouden", "Withdrawal held back"),
}
#: What a column of a field-level diff holds (a dataset entry's `compare` names them).
SIDE_LABELS: dict[str, tuple[str, str]] = {
    "old": ("Oud", "Old"),
    "new": ("Nieuw", "New"),
    "ours_last_sent": ("onze versie (laatst verstuurd)", "ours (last sent)"),
    "ours_to_send": ("onze versie (te versturen)", "ours (to send)"),
    "target_now": ("op het doel nu", "on the target now"),
}
#: Where a problem of a dataset was found.
ORIGIN_LABELS: dict[str, tuple[str, str]] = {
    "shacl": ("SHACL-validatie", "SHACL validation"),
    "mapping": ("koppeling", "mapping"),
    "target": ("regels van het doel", "target's rules"),
    "answer": ("antwoord van het doel", "target's answer"),
}
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "success": ("Geslaagd", "Success"),
    "attention": ("Aandacht nodig", "Needs attention"),
    "incomplete": ("Onvolledig", "Incomplete"),
    "failed": ("Mislukt", "Failed"),
}


def both(labels: tuple[str, str]) -> str:
    """A (Dutch, English) pair as "Dutch / English", or one word when they are the same."""
    nl, en = labels
    return nl if nl == en else f"{nl} / {en}"


def label(table: dict[str, tuple[str, str]], key: str) -> str:
    """The label of `key` in `table` as `both()` shows it; an unknown key stands for itself."""
    return both(table.get(key, (key, key)))
