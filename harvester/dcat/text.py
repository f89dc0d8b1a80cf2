"""Text hygiene for CKAN metadata: Markdown and HTML notes become tidy plain text.

CKAN stores `notes` as Markdown (DUO's use `## headers`, `\\r\\n` line breaks, links and lists) and
some portals put HTML in them. DCAT-AP descriptions are plain text, so the mapper runs every
free-text value through these helpers:

* `plain_text(text)`   multi-line text (dataset/distribution descriptions): line breaks normalised,
                       HTML tags removed and entities unescaped, Markdown markup removed (links keep
                       their text, images their alt text, emphasis/quotes stripped, bullets
                       dropped, numbered lists keep their numbers; a heading's text and a rule
                       stand apart from the text around them, an empty line before and after),
                       whitespace tidied (no trailing blanks, at most one empty line in a row).
                       The paragraphs stay paragraphs when the target renders the text as
                       Markdown.
* `single_line(text)`  one-line values (titles, names, keywords): HTML removed, entities
                       unescaped, all whitespace folded to single spaces (no Markdown rules).

Invisible characters are removed (zero-width space, word joiner, BOM, control characters), but
a zero-width joiner or non-joiner inside a word is kept: it is part of an emoji sequence or of a
script's writing.

All functions accept None and return "" for it. They are pure, deterministic and fast (compiled
regular expressions only); they never shorten a text.
"""

from __future__ import annotations

import html
import re

__all__ = [
    "markdown_to_text",
    "normalise_newlines",
    "plain_text",
    "single_line",
    "strip_html",
    "tidy_whitespace",
]

# --- line breaks and invisible characters -----------------------------------------------------

_NEWLINES = re.compile(r"\r\n?|\u2028|\u2029|\x85")
#: the zero-width space, the word joiner and the BOM (invisible, never meaningful in metadata),
#: and a zero-width joiner or non-joiner that joins nothing (at the start or end of a word). Inside
#: a word the joiners are part of the writing: a ZWJ binds an emoji sequence ("👩\u200d💻" is one
#: emoji, not two), and both shape letters in Arabic and Indic scripts.
_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff]|(?<!\S)[\u200c\u200d]|[\u200c\u200d](?!\S)")
# control characters other than \t and \n are not allowed in XML 1.0 and are never meaningful
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_newlines(text: str | None) -> str:
    """`\\r\\n`, lone `\\r` and Unicode line separators become `\\n`."""
    if not text:
        return ""
    if "\r" not in text and text.isascii():  # the other line separators are not ASCII
        return text
    return _NEWLINES.sub("\n", text)


# --- HTML ---------------------------------------------------------------------------------------

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_DROP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HTML_BLOCK_END = re.compile(r"</(p|div|h[1-6]|ul|ol|table|tr|blockquote|pre|section)\s*>", re.IGNORECASE)
_HTML_BLOCK_START = re.compile(r"<(p|div|h[1-6]|ul|ol|table|tr|blockquote|pre|section)\b[^>]*>",
                               re.IGNORECASE)
_HTML_LI = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_HTML_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_HTML_LINK = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.DOTALL | re.IGNORECASE)
# a real tag: `<name ...>` or `</name>`; leaves "a < b > c" and "<= 5" alone
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>", re.IGNORECASE)


def strip_html(text: str | None) -> str:
    """Remove HTML tags (block elements become line breaks, links keep their text).

    Entities are not unescaped here (see `plain_text`), so that an escaped `&lt;b&gt;` in the
    source is text, not a tag.
    """
    if not text:
        return ""
    if "<" not in text:
        return text
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_DROP.sub("", text)
    text = _HTML_LINK.sub(r"\1", text)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_LI.sub("\n", text)
    text = _HTML_BLOCK_START.sub("\n\n", text)
    text = _HTML_BLOCK_END.sub("\n\n", text)
    text = _HTML_CELL_END.sub(" ", text)
    return _HTML_TAG.sub("", text)


# --- Markdown -----------------------------------------------------------------------------------

_MD_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*$", re.MULTILINE)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]+\S+.*$", re.MULTILINE)
_MD_HEADER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)[ \t]*#*[ \t]*$", re.MULTILINE)
_MD_SETEXT = re.compile(r"^[ \t]{0,3}(=+|-{2,})[ \t]*(?:\n|$)", re.MULTILINE)
_MD_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*(?:\n|$)", re.MULTILINE)
_MD_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_MD_BULLET = re.compile(r"^([ \t]*)[-*+•][ \t]+", re.MULTILINE)
_MD_NUMBERED = re.compile(r"^[ \t]*(\d{1,3})[.)][ \t]+", re.MULTILINE)
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_STAR_EM = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_MD_UNDERSCORE_EM = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_MD_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_MD_CODE = re.compile(r"`+([^`\n]+?)`+")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|~])")
_MD_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$",
                            re.MULTILINE)

#: the inline rules of markdown_to_text, in order: (what the text must hold for the rule to
#: matter, the pattern, its replacement)
_INLINE_RULES = (
    (("`",), _MD_CODE, r"\1"),
    (("**", "__"), _MD_BOLD, r"\2"),
    (("~~",), _MD_STRIKE, r"\1"),
    (("*",), _MD_STAR_EM, r"\1"),
    (("_",), _MD_UNDERSCORE_EM, r"\1"),
    (("\\",), _MD_ESCAPE, r"\1"),
)


def _line_starts(text: str) -> set[str]:
    """The first character of each line after its leading blanks ("" for a blank line)."""
    return {line.lstrip(" \t")[:1] for line in text.split("\n")}


def _line_rule(pattern: re.Pattern[str], replacement: str, text: str,
               starts: set[str]) -> tuple[str, set[str]]:
    """`pattern` replaced in `text`, with the line starts read again when that changed it."""
    changed = pattern.sub(replacement, text)
    return (text, starts) if changed == text else (changed, _line_starts(changed))


def markdown_to_text(text: str | None) -> str:
    """Markdown markup removed; the words stay. Expects `\\n` line breaks.

    Each rule runs only when the text has the characters it needs (e.g. a `#` for a header, a
    line starting with `-` for a bullet), so plain prose passes through without regex scans.
    """
    if not text:
        return ""
    if "```" in text or "~~~" in text:
        text = _MD_FENCE.sub("", text)
    if "]" in text:
        if "]:" in text:
            text = _MD_REF_DEF.sub("", text)
        if "![" in text:
            text = _MD_IMAGE.sub(r"\1", text)
        if "](" in text:
            text = _MD_LINK.sub(r"\1", text)
        if "][" in text:
            text = _MD_REF_LINK.sub(r"\1", text)
    starts = _line_starts(text)
    # a rule or heading stays a block of its own: an empty line ends the paragraph before it,
    # so that a Markdown renderer does not run a heading into the text around it
    if not starts.isdisjoint("-*_"):  # before bullets: "* * *" is a rule
        text, starts = _line_rule(_MD_RULE, "\n", text, starts)
    if not starts.isdisjoint("=-"):
        text, starts = _line_rule(_MD_SETEXT, "\n", text, starts)
    if "#" in text:
        text, starts = _line_rule(_MD_HEADER, r"\n\1\n", text, starts)
    if ">" in text:
        text, starts = _line_rule(_MD_QUOTE, "", text, starts)
    if "---" in text:
        text, starts = _line_rule(_MD_TABLE_RULE, "", text, starts)
    if not starts.isdisjoint("-*+\u2022"):
        text, starts = _line_rule(_MD_BULLET, r"\1", text, starts)
    if any(start.isdecimal() for start in starts):
        text = _MD_NUMBERED.sub(r"\1. ", text)
    for needles, pattern, replacement in _INLINE_RULES:
        if any(needle in text for needle in needles):
            text = pattern.sub(replacement, text)
    return text


# --- whitespace ---------------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f\u3000]+")
_OTHER_BLANK = re.compile(r"[\t\u00a0\u2007\u202f\u3000]")  # the blanks of _SPACES but " "
_TRAILING = re.compile(r" +\n| +$")
_LEADING = re.compile(r"\n +")
_BLANK_LINES = re.compile(r"\n{3,}")
_ANY_SPACE = re.compile(r"\s+")


def tidy_whitespace(text: str | None) -> str:
    """Runs of blanks become one space, lines lose leading/trailing blanks, at most one empty
    line in a row, no leading/trailing empty lines."""
    if not text:
        return ""
    if "  " in text or _OTHER_BLANK.search(text) is not None:  # else every run is one space
        text = _SPACES.sub(" ", text)
    if " \n" in text or text.endswith(" "):
        text = _TRAILING.sub("\n", text)
    if "\n " in text:
        text = _LEADING.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


# --- entry points -------------------------------------------------------------------------------


def plain_text(text: str | None) -> str:
    """Markdown/HTML text as tidy plain text, line structure kept (see the module docstring)."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = normalise_newlines(text)
    if not text.isascii():
        text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = strip_html(text)
    text = markdown_to_text(text)
    text = html.unescape(text)
    text = _CONTROL.sub("", normalise_newlines(text))
    return tidy_whitespace(text)


def single_line(text: str | None) -> str:
    """One-line text (titles, names, keywords): HTML tags removed, entities unescaped, every run
    of whitespace (line breaks included) one space. CKAN titles are not Markdown, so Markdown
    characters are kept as they are."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = _CONTROL.sub("", _INVISIBLE.sub("", text))
    if "<" in text:
        text = strip_html(text)
    if "&" in text:
        text = _CONTROL.sub("", html.unescape(text))
    return _ANY_SPACE.sub(" ", text).strip()
