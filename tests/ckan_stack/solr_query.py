"""The query side of the Solr stand-in: Lucene/dismax parsing, matching, sorting and faceting.

It knows the field types of CKAN's Solr schema (string, text, date, int; stored or not) and
evaluates the query syntax CKAN and its API clients send: `*:*`, `field:value`, quoted phrases,
wildcards, `field:*`, `field:(a OR b)`, `[a TO b]` / `{a TO b}` ranges with date math, `+`, `-`,
`!`, `NOT`, `AND`, `OR`, `&&`, `||`, parentheses, `^boost` and `q.op`. Free text goes through
a dismax-like path with `qf` boosts and `mm`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

MUST, SHOULD, MUST_NOT = "must", "should", "must_not"

# --- CKAN schema knowledge ------------------------------------------------------------------

TEXT_FIELDS = {
    "title", "notes", "text", "urls", "res_name", "res_description", "author", "author_email",
    "maintainer", "maintainer_email", "title_ngram", "name_ngram", "depends_on",
    "dependency_of", "derives_from", "has_derivation", "links_to", "linked_from", "child_of",
    "parent_of",
}
DATE_FIELDS = {"metadata_created", "metadata_modified", "indexed_ts"}
INT_FIELDS = {"views_total", "views_recent", "resources_accessed_total",
              "resources_accessed_recent"}
UNSTORED_FIELDS = {"text", "urls", "permission_labels", "title_string", "views_total",
                   "views_recent", "resources_accessed_total", "resources_accessed_recent",
                   "depends_on", "dependency_of", "derives_from", "has_derivation", "links_to",
                   "linked_from", "child_of", "parent_of"}
STORED_FIELDS = {
    "index_id", "id", "site_id", "title", "title_ngram", "entity_type", "dataset_type", "state",
    "name", "name_ngram", "revision_id", "version", "url", "ckan_url", "download_url", "notes",
    "author", "author_email", "maintainer", "maintainer_email", "license", "license_id", "tags",
    "groups", "organization", "capacity", "res_name", "res_description", "res_format",
    "res_url", "res_type", "metadata_created", "metadata_modified", "indexed_ts", "data_dict",
    "validated_data_dict", "_version_",
}
# copyField sources of the catch-all `text` field (prefix patterns end in `*`).
TEXT_SOURCES = (
    "url", "ckan_url", "download_url", "res_url", "extras_*", "res_extras_*", "vocab_*", "name",
    "title", "license", "notes", "tags", "groups", "organization", "res_name", "res_description",
    "maintainer", "author",
)
URL_SOURCES = ("url", "ckan_url", "download_url", "res_url")


def field_type(name: str) -> str:
    """The Solr type family of a CKAN schema field: 'text', 'date', 'int' or 'string'."""
    if name in TEXT_FIELDS or name.startswith(("extras_", "res_extras_")):
        return "text"
    if name in DATE_FIELDS or name.endswith("_date"):
        return "date"
    if name in INT_FIELDS:
        return "int"
    return "string"


def is_stored(name: str) -> bool:
    """Whether CKAN's schema stores the field, i.e. whether Solr returns it in `fl`."""
    if name in UNSTORED_FIELDS:
        return False
    return (name in STORED_FIELDS or name.endswith("_date")
            or name.startswith(("extras_", "res_extras_", "vocab_")))


class QuerySyntaxError(ValueError):
    """A query string this parser cannot read (Solr answers such requests with HTTP 400)."""


# --- values, text analysis and dates ----------------------------------------------------------

def as_strings(value: Any) -> list[str]:
    """Flatten a stored field value to the list of strings Solr would index."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in as_strings(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, dict):
        return [json.dumps(value, sort_keys=True)]
    text = str(value)
    return [text] if text != "" else []


_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, like Solr's standard tokenizer plus lowercase filter."""
    return [t.lower() for t in _TOKEN_RE.findall(text)]


_DATE_MATH_RE = re.compile(r"([+-])(\d+)([A-Z]+)|/([A-Z]+)")
_UNITS = {"YEAR": "years", "MONTH": "months", "DAY": "days", "DATE": "days", "HOUR": "hours",
          "MINUTE": "minutes", "SECOND": "seconds", "MILLI": "milliseconds",
          "MILLISECOND": "milliseconds"}


def parse_date(text: str, now: datetime | None = None) -> datetime:
    """Parse an ISO date or Solr date math (`NOW`, `NOW-1DAY`, `2026-01-01T00:00:00Z/DAY`)."""
    text = text.strip()
    base, math = _split_date_math(text)
    if base == "NOW":
        moment = now or datetime.now(UTC)
    else:
        moment = _parse_iso(base)
    for sign, amount, unit, round_unit in _DATE_MATH_RE.findall(math):
        if round_unit:
            moment = _round_date(moment, _unit(round_unit))
        else:
            moment = _shift_date(moment, int(amount) * (1 if sign == "+" else -1), _unit(unit))
    return moment


def _split_date_math(text: str) -> tuple[str, str]:
    """Split `2026-01-01T00:00:00Z+1DAY/DAY` into the base date and the math suffix."""
    if text.startswith("NOW"):
        return "NOW", text[3:]
    match = re.search(r"(?:[+-]\d+[A-Z]+|/[A-Z]+)+$", text)
    if match:
        return text[: match.start()], match.group(0)
    return text, ""


def _unit(name: str) -> str:
    """Map a Solr date math unit (singular or plural) to a timedelta-style unit name."""
    key = name[:-1] if name.endswith("S") and name[:-1] in _UNITS else name
    if key not in _UNITS:
        raise QuerySyntaxError(f"Invalid Date Math String: unknown unit {name}")
    return _UNITS[key]


def _parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (or date) into an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise QuerySyntaxError(f"Invalid Date String: '{text}'") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _shift_date(moment: datetime, amount: int, unit: str) -> datetime:
    """Add `amount` units to a datetime (months and years by calendar)."""
    if unit in ("years", "months"):
        months = moment.month - 1 + amount * (12 if unit == "years" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, _days_in_month(year, month))
        return moment.replace(year=year, month=month, day=day)
    return moment + timedelta(**{unit: amount})


def _days_in_month(year: int, month: int) -> int:
    """Number of days in a month."""
    nxt = datetime(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _round_date(moment: datetime, unit: str) -> datetime:
    """Round a datetime down to the start of the given unit."""
    order = ["years", "months", "days", "hours", "minutes", "seconds", "milliseconds"]
    keep = order.index(unit)
    parts = {"month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0, "microsecond": 0}
    names = ["month", "day", "hour", "minute", "second", "microsecond"]
    reset = {name: parts[name] for name in names[keep:]}
    if unit == "milliseconds":
        reset = {"microsecond": moment.microsecond // 1000 * 1000}
    return moment.replace(**reset)


def solr_date(text: str) -> str:
    """Format a date as Solr returns it: `2026-01-02T03:04:05.678Z` (milliseconds, if any)."""
    try:
        moment = _parse_iso(text)
    except QuerySyntaxError:
        return text
    millis = moment.microsecond // 1000
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def typed_value(ftype: str, text: str) -> Any:
    """Convert an indexed string to a comparable value of the field's type (None if invalid)."""
    try:
        if ftype == "date":
            return parse_date(text)
        if ftype == "int":
            return float(text)
    except (QuerySyntaxError, ValueError):
        return None
    return text


# --- documents --------------------------------------------------------------------------------

class Document:
    """One indexed document: its stored fields plus derived copyField values and token cache."""

    def __init__(self, fields: dict[str, Any]):
        self.fields = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in fields.items()}
        self.fields.setdefault("indexed_ts", datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"))
        self._derived = {"text": self._copy(TEXT_SOURCES), "urls": self._copy(URL_SOURCES),
                         "title_string": as_strings(self.fields.get("title")),
                         "title_ngram": as_strings(self.fields.get("title")),
                         "name_ngram": as_strings(self.fields.get("name"))}
        self._tokens: dict[str, list[list[str]]] = {}

    def _copy(self, sources: Iterable[str]) -> list[str]:
        """Collect the string values of all fields that a copyField rule sends to a target."""
        values: list[str] = []
        for source in sources:
            if source.endswith("*"):
                for name in self.fields:
                    if name.startswith(source[:-1]):
                        values.extend(as_strings(self.fields[name]))
            else:
                values.extend(as_strings(self.fields.get(source)))
        return values

    def values(self, name: str) -> list[str]:
        """The indexed string values of a field (own values plus copyField values)."""
        own = as_strings(self.fields.get(name))
        return own + self._derived.get(name, [])

    def tokens(self, name: str) -> list[list[str]]:
        """Token lists, one per value, of a text field (cached)."""
        if name not in self._tokens:
            self._tokens[name] = [tokenize(v) for v in self.values(name)]
        return self._tokens[name]

    def stored(self, fl: list[str]) -> dict[str, Any]:
        """The stored fields selected by an `fl` list (`*` selects all stored fields)."""
        names = [k for k in self.fields if is_stored(k)] if "*" in fl else \
            [k for k in fl if k in self.fields and is_stored(k)]
        return {k: self._output(k) for k in names}

    def _output(self, name: str) -> Any:
        """A stored value as Solr returns it (dates in UTC with millisecond precision)."""
        value = self.fields[name]
        if field_type(name) != "date":
            return value
        dates = [solr_date(v) for v in as_strings(value)]
        return dates if isinstance(value, list) else (dates[0] if dates else value)


# --- query tree -------------------------------------------------------------------------------

@dataclass
class MatchAll:
    """`*:*`: every document, score 1."""

    def score(self, doc: Document) -> float | None:
        """Score of a document, or None when it does not match."""
        return 1.0


@dataclass
class Term:
    """A single term/phrase/wildcard/existence test on one field."""

    field: str
    text: str
    kind: str = "term"  # term | phrase | wildcard | exists
    boost: float = 1.0

    def score(self, doc: Document) -> float | None:
        """Score of a document, or None when it does not match."""
        if self.field == "*":
            return self.boost if self.text == "*" else None
        return self.boost if _term_matches(self, doc) else None


@dataclass
class Range:
    """A `[low TO high]` style range test; None bounds are open (`*`)."""

    field: str
    low: str | None
    high: str | None
    include_low: bool = True
    include_high: bool = True
    boost: float = 1.0

    def score(self, doc: Document) -> float | None:
        """Score of a document, or None when it does not match."""
        ftype = field_type(self.field)
        low = None if self.low is None else _bound(ftype, self.low)
        high = None if self.high is None else _bound(ftype, self.high)
        for raw in doc.values(self.field):
            value = typed_value(ftype, raw)
            if value is not None and _in_range(value, low, high, self):
                return self.boost
        return None


@dataclass
class BoolQuery:
    """A boolean combination of clauses with Lucene MUST/SHOULD/MUST_NOT semantics."""

    clauses: list[tuple[str, Any]] = field(default_factory=list)
    min_should: int = 0
    boost: float = 1.0

    def score(self, doc: Document) -> float | None:
        """Score of a document, or None when it does not match."""
        total, should_hits, has_positive = 0.0, 0, False
        for occur, query in self.clauses:
            result = query.score(doc)
            if occur == MUST_NOT:
                if result is not None:
                    return None
                continue
            has_positive = True
            if occur == MUST:
                if result is None:
                    return None
                total += result
            elif result is not None:
                should_hits += 1
                total += result
        if not has_positive:
            return 1.0 * self.boost  # a purely negative query matches everything else
        needed = self.min_should or (0 if any(o == MUST for o, _ in self.clauses) else 1)
        if should_hits < needed:
            return None
        return total * self.boost


@dataclass
class DisMax:
    """One query term searched across several boosted fields; the best field scores."""

    alternatives: list[Any]

    def score(self, doc: Document) -> float | None:
        """Score of a document, or None when it does not match."""
        scores = [s for s in (q.score(doc) for q in self.alternatives) if s is not None]
        return max(scores) if scores else None


def _bound(ftype: str, text: str) -> Any:
    """A typed range bound; raises QuerySyntaxError when it cannot be read."""
    value = typed_value(ftype, text)
    if value is None:
        if ftype == "date":
            parse_date(text)  # raises with Solr's message
        raise QuerySyntaxError(f"Invalid Number: {text}")
    return value


def _in_range(value: Any, low: Any, high: Any, rng: Range) -> bool:
    """Whether a typed value lies within a range's bounds."""
    if low is not None and (value < low or (value == low and not rng.include_low)):
        return False
    return high is None or value < high or (value == high and rng.include_high)


def _term_matches(term: Term, doc: Document) -> bool:
    """Whether a document's field matches a term, according to the field's type."""
    ftype = field_type(term.field)
    if term.kind == "exists":
        return bool(doc.values(term.field))
    if ftype == "text":
        return _text_matches(term, doc)
    values = doc.values(term.field)
    if term.kind == "wildcard":
        return any(fnmatch.fnmatchcase(v, term.text) for v in values)
    if ftype in ("date", "int"):
        wanted = typed_value(ftype, term.text)
        return wanted is not None and any(typed_value(ftype, v) == wanted for v in values)
    return term.text in values


def _text_matches(term: Term, doc: Document) -> bool:
    """Match a term against the analysed tokens of a text field."""
    token_lists = doc.tokens(term.field)
    if term.kind == "wildcard":
        pattern = term.text.lower()
        return any(fnmatch.fnmatchcase(tok, pattern) for toks in token_lists for tok in toks)
    wanted = tokenize(term.text)
    if not wanted:
        return False
    return any(_contains_sequence(toks, wanted) for toks in token_lists)


def _contains_sequence(tokens: list[str], wanted: list[str]) -> bool:
    """Whether `wanted` occurs as a consecutive run inside `tokens`."""
    size = len(wanted)
    return any(tokens[i:i + size] == wanted for i in range(len(tokens) - size + 1))


# --- Lucene query lexer and parser ------------------------------------------------------------

@dataclass
class Token:
    """A lexical token of the Lucene query syntax."""

    kind: str  # TERM FIELD PHRASE RANGE LPAREN RPAREN PLUS MINUS NOT AND OR
    text: str = ""
    extra: Any = None
    boost: float = 1.0
    wildcard: bool = False


_SPECIAL = set(' \t\r\n()"[]{}^~')


class Lexer:
    """Splits a Lucene query string into tokens."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def tokens(self) -> list[Token]:
        """All tokens of the query."""
        out: list[Token] = []
        while True:
            self._skip_space()
            if self.pos >= len(self.text):
                return out
            out.append(self._next(at_clause_start=self._clause_start(out)))

    @staticmethod
    def _clause_start(out: list[Token]) -> bool:
        """Whether + - ! act as operators here (everywhere except right after `field:`)."""
        return not out or out[-1].kind != "FIELD"

    def _skip_space(self) -> None:
        """Advance past whitespace."""
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _next(self, at_clause_start: bool) -> Token:
        """Read one token at the current position."""
        ch, rest = self.text[self.pos], self.text[self.pos:]
        simple = {"(": "LPAREN", ")": "RPAREN"}
        if ch in simple:
            self.pos += 1
            return Token(simple[ch])
        if rest.startswith(("&&", "||")):
            self.pos += 2
            return Token("AND" if ch == "&" else "OR")
        if ch in "+-!" and at_clause_start:
            self.pos += 1
            return Token({"+": "PLUS", "-": "MINUS", "!": "NOT"}[ch])
        if ch == '"':
            return self._with_suffix(Token("PHRASE", self._quoted()))
        if ch in "[{":
            return self._with_suffix(self._range())
        return self._word()

    def _quoted(self) -> str:
        """Read a double-quoted string (escapes resolved), leaving pos after the quote."""
        self.pos += 1
        buf: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                buf.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if ch == '"':
                return "".join(buf)
            buf.append(ch)
        raise QuerySyntaxError(f"Cannot parse '{self.text}': unterminated quote")

    def _range(self) -> Token:
        """Read a `[low TO high]` / `{low TO high}` range (mixed brackets allowed)."""
        include_low = self.text[self.pos] == "["
        self.pos += 1
        parts: list[str | None] = []
        while True:
            self._skip_space()
            if self.pos >= len(self.text):
                raise QuerySyntaxError(f"Cannot parse '{self.text}': unterminated range")
            ch = self.text[self.pos]
            if ch in "]}":
                self.pos += 1
                break
            parts.append(self._quoted() if ch == '"' else self._range_word())
        words = parts
        if len(words) != 3 or words[1] != "TO":
            raise QuerySyntaxError(f"Cannot parse '{self.text}': bad range {words}")
        low, high = (None if w == "*" else w for w in (words[0], words[2]))
        include_high = self.text[self.pos - 1] == "]"
        return Token("RANGE", extra=(low, high, include_low, include_high))

    def _range_word(self) -> str:
        """Read one unquoted word inside a range."""
        start = self.pos
        while self.pos < len(self.text) and not self.text[self.pos].isspace() \
                and self.text[self.pos] not in "]}":
            self.pos += 1
        return self.text[start:self.pos].replace("\\", "")

    def _word(self) -> Token:
        """Read a bare term, a `field:` prefix, or an AND/OR/NOT keyword."""
        buf: list[str] = []
        wildcard, escaped_any = False, False
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                buf.append(self.text[self.pos + 1])
                escaped_any = True
                self.pos += 2
                continue
            if ch in _SPECIAL:
                break
            if ch == ":":
                self.pos += 1
                return Token("FIELD", "".join(buf))
            wildcard = wildcard or ch in "*?"
            buf.append(ch)
            self.pos += 1
        word = "".join(buf)
        if not escaped_any and word in ("AND", "OR", "NOT"):
            return Token(word)
        if not word:
            raise QuerySyntaxError(f"Cannot parse '{self.text}' at position {self.pos}")
        return self._with_suffix(Token("TERM", word, wildcard=wildcard))

    def _with_suffix(self, token: Token) -> Token:
        """Consume a `^boost` and/or `~slop` suffix after a term, phrase or range."""
        while self.pos < len(self.text) and self.text[self.pos] in "^~":
            mark = self.text[self.pos]
            self.pos += 1
            match = re.match(r"\d*\.?\d*", self.text[self.pos:])
            number = match.group(0) if match else ""
            self.pos += len(number)
            if mark == "^" and number:
                token.boost = float(number)
        return token


class LuceneParser:
    """Recursive-descent parser of the classic Lucene query syntax into a query tree."""

    def __init__(self, text: str, default_field: str = "text", default_and: bool = False,
                 unfielded: Callable[[Token], Any] | None = None):
        self.text = text
        self.tokens = Lexer(text).tokens()
        self.pos = 0
        self.default_field = default_field
        self.default_and = default_and
        self.unfielded = unfielded

    def parse(self) -> Any:
        """Parse the whole query string."""
        query = self._query(None)
        if self.pos < len(self.tokens):
            raise QuerySyntaxError(f"Cannot parse '{self.text}': unexpected ')'")
        return query

    def _peek(self) -> Token | None:
        """The next token without consuming it."""
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> Token:
        """Consume and return the next token."""
        token = self._peek()
        if token is None:
            raise QuerySyntaxError(f"Cannot parse '{self.text}': unexpected end")
        self.pos += 1
        return token

    def _query(self, field_name: str | None) -> Any:
        """Parse a sequence of clauses until `)` or the end."""
        clauses: list[list[Any]] = []
        while (token := self._peek()) is not None and token.kind != "RPAREN":
            conj = self._take().kind if token.kind in ("AND", "OR") else None
            mods = None
            if (token := self._peek()) is not None and token.kind in ("PLUS", "MINUS", "NOT"):
                mods = self._take().kind
            self._add_clause(clauses, conj, mods, self._clause(field_name))
        if not clauses:
            raise QuerySyntaxError(f"Cannot parse '{self.text}': empty query")
        if len(clauses) == 1 and clauses[0][0] != MUST_NOT:
            return clauses[0][1]
        return BoolQuery([(occur, query) for occur, query in clauses])

    def _add_clause(self, clauses: list[list[Any]], conj: str | None, mods: str | None,
                    query: Any) -> None:
        """Append a clause with the occur rules of Lucene's classic QueryParser."""
        if clauses and conj == "AND" and clauses[-1][0] != MUST_NOT:
            clauses[-1][0] = MUST
        if clauses and self.default_and and conj == "OR" and clauses[-1][0] != MUST_NOT:
            clauses[-1][0] = SHOULD
        if mods in ("MINUS", "NOT"):
            occur = MUST_NOT
        elif mods == "PLUS":
            occur = MUST
        elif self.default_and:
            occur = SHOULD if conj == "OR" else MUST
        else:
            occur = MUST if conj == "AND" else SHOULD
        clauses.append([occur, query])

    def _clause(self, field_name: str | None) -> Any:
        """Parse one clause: an optional `field:` then a term, phrase, range or group."""
        token = self._take()
        if token.kind == "FIELD":
            field_name = token.text
            token = self._take()
        if token.kind == "LPAREN":
            inner = self._query(field_name)
            if self._take().kind != "RPAREN":
                raise QuerySyntaxError(f"Cannot parse '{self.text}': missing ')'")
            return inner
        if token.kind not in ("TERM", "PHRASE", "RANGE"):
            raise QuerySyntaxError(f"Cannot parse '{self.text}': unexpected {token.kind}")
        if field_name is None and self.unfielded is not None:
            return self.unfielded(token)
        return leaf_query(field_name or self.default_field, token)


def leaf_query(field_name: str, token: Token) -> Any:
    """Turn a TERM/PHRASE/RANGE token on a field into a query node."""
    if token.kind == "RANGE":
        low, high, inc_low, inc_high = token.extra
        return Range(field_name, low, high, inc_low, inc_high, token.boost)
    if token.kind == "PHRASE":
        return Term(field_name, token.text, "phrase", token.boost)
    if field_name == "*" and token.text == "*":
        return MatchAll()
    if token.text == "*":
        return Term(field_name, "*", "exists", token.boost)
    return Term(field_name, token.text, "wildcard" if token.wildcard else "term", token.boost)


# --- dismax -----------------------------------------------------------------------------------

def parse_qf(qf: str) -> list[tuple[str, float]]:
    """Parse a `qf` list like `name^4 title^4 text` into (field, boost) pairs."""
    fields = []
    for item in qf.split():
        name, _, boost = item.partition("^")
        fields.append((name, float(boost) if boost else 1.0))
    return fields


def min_should_match(spec: str, optional: int) -> int:
    """Evaluate a Solr `mm` spec (e.g. `2<-1 5<80%`) for a number of optional clauses."""
    spec = spec.strip()
    if not spec or optional == 0:
        return 0
    if "<" in spec:
        chosen = None
        for part in spec.split():
            limit, _, value = part.partition("<")
            if optional > int(limit):
                chosen = value
        return optional if chosen is None else min_should_match(chosen, optional)
    if spec.endswith("%"):
        pct = int(spec[:-1])
        count = optional * abs(pct) // 100
        result = count if pct >= 0 else optional - count
    else:
        num = int(spec)
        result = num if num >= 0 else optional + num
    return max(0, min(optional, result))


def dismax_query(q: str, qf: str, mm: str) -> Any:
    """Build a dismax query: each word/phrase is searched over the `qf` fields."""
    fields = parse_qf(qf) or [("text", 1.0)]
    clauses: list[tuple[str, Any]] = []
    for sign, phrase, word in re.findall(r'([+-]?)(?:"([^"]*)"|(\S+))', q):
        text = phrase if phrase else re.sub(r'[\\:()\[\]{}^~"]', " ", word).strip()
        if not text:
            continue
        kind = "phrase" if phrase else ("wildcard" if re.search(r"[*?]", text) else "term")
        node = DisMax([Term(name, text, kind, boost) for name, boost in fields])
        clauses.append(({"+": MUST, "-": MUST_NOT}.get(sign, SHOULD), node))
    if not clauses:
        return MatchAll()
    optional = sum(1 for occur, _ in clauses if occur == SHOULD)
    return BoolQuery(clauses, min_should=min_should_match(mm, optional))


def edismax_unfielded(qf: str) -> Callable[[Token], Any]:
    """Unfielded-term handler for edismax: search the term over the `qf` fields."""
    fields = parse_qf(qf) or [("text", 1.0)]

    def build(token: Token) -> Any:
        """One DisMax node for an unfielded token."""
        return DisMax([leaf_query(name, _boosted(token, boost)) for name, boost in fields])
    return build


def _boosted(token: Token, boost: float) -> Token:
    """A copy of a token with its boost multiplied."""
    return Token(token.kind, token.text, token.extra, token.boost * boost, token.wildcard)


def parse_main_query(params: dict[str, list[str]]) -> Any:
    """Parse the `q` parameter with the parser chosen by `defType` (lucene, dismax, edismax)."""
    q = first(params, "q", "*:*").strip() or "*:*"
    def_type = first(params, "defType", "lucene")
    default_and = first(params, "q.op", "OR").upper() == "AND"
    if def_type == "dismax":
        if q == "*:*":
            return MatchAll()
        return dismax_query(q, first(params, "qf", ""), first(params, "mm", "100%"))
    unfielded = edismax_unfielded(first(params, "qf", "")) if def_type == "edismax" else None
    return LuceneParser(q, first(params, "df", "text"), default_and, unfielded).parse()


def parse_filter(fq: str, params: dict[str, list[str]]) -> Any:
    """Parse one `fq` filter with the standard parser (`q.op` and `df` apply)."""
    default_and = first(params, "q.op", "OR").upper() == "AND"
    return LuceneParser(fq, first(params, "df", "text"), default_and).parse()


def first(params: dict[str, list[str]], name: str, default: str = "") -> str:
    """The first value of a request parameter."""
    values = params.get(name)
    return values[0] if values else default


# --- sorting, field lists and facets ----------------------------------------------------------

def parse_sort(spec: str) -> list[tuple[str, bool]]:
    """Parse `field asc, other desc` into (field, descending) pairs."""
    keys = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        bits = part.split()
        if len(bits) != 2 or bits[1].lower() not in ("asc", "desc"):
            raise QuerySyntaxError(
                f"Can't determine a Sort Order (asc or desc) in sort spec '{part}'")
        keys.append((bits[0], bits[1].lower() == "desc"))
    return keys


def sort_hits(hits: list[tuple[Document, float]], spec: str) -> list[tuple[Document, float]]:
    """Sort (doc, score) hits; ties keep index order, missing values sort last."""
    keys = parse_sort(spec) or [("score", True)]
    ordered = list(hits)
    for name, descending in reversed(keys):
        present, missing = [], []
        for hit in ordered:
            (present if _sort_value(hit, name) is not None else missing).append(hit)
        present.sort(key=lambda hit: _sort_value(hit, name), reverse=descending)
        ordered = present + missing
    return ordered


def _sort_value(hit: tuple[Document, float], name: str) -> Any:
    """The comparable sort value of a hit for one sort field (None when missing)."""
    doc, score = hit
    if name == "score":
        return score
    values = doc.values(name)
    if not values:
        return None
    ftype = field_type(name)
    if ftype == "text":
        return values[0].lower()
    return typed_value(ftype, values[0])


def parse_fl(params: dict[str, list[str]]) -> list[str]:
    """The requested field list (`fl`, space or comma separated; default `*`)."""
    names = [n for value in params.get("fl", ["*"]) for n in re.split(r"[\s,]+", value) if n]
    return names or ["*"]


def facet_counts(docs: list[Document], params: dict[str, list[str]]) -> dict[str, Any]:
    """Solr's `facet_counts` block for the `facet.field` parameters over all matching docs."""
    limit = int(first(params, "facet.limit", "100"))
    mincount = int(first(params, "facet.mincount", "0"))
    fields: dict[str, list[Any]] = {}
    for name in params.get("facet.field", []):
        counts: dict[str, int] = {}
        for doc in docs:
            values = ([t for toks in doc.tokens(name) for t in toks]
                      if field_type(name) == "text" else doc.values(name))
            for value in set(values):
                counts[value] = counts.get(value, 0) + 1
        ranked = sorted((item for item in counts.items() if item[1] >= max(mincount, 1)),
                        key=lambda item: (-item[1], item[0]))
        if limit >= 0:
            ranked = ranked[:limit]
        fields[name] = [x for pair in ranked for x in pair]
    return {"facet_queries": {}, "facet_fields": fields, "facet_ranges": {},
            "facet_intervals": {}, "facet_heatmaps": {}}
