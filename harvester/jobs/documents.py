"""Validate DCAT-AP-NL documents given as files: a publisher's own export, a colleague's
catalogue, a single dataset or distribution. No configuration file and no state store needed.

    validate_documents(config, [Path("catalogus.ttl"), Path("dataset.jsonld")])
    # -> DocumentsValidation: per file its findings, or why it could not be read

Each file is read on its own, in the format its name says (`FORMAT_OF_EXTENSION`), the one asked
for, or (an unknown extension) the one its first bytes suggest. Nothing is fetched: a JSON-LD
document whose `@context` (or `@import`) names a remote context is refused before it is parsed,
so the parser never goes to the network. A file that is not there, does not parse or holds no
RDF statement is a `DocumentError` naming the file and, where the parser says, the line and
column; the other files are validated all the same.

The validator's data graph is the document plus the background graph (harvester.shacl); every
node the document describes (has as subject) and the shapes target is judged, and findings about
nodes only the background describes are dropped. A fragment (a dataset without a catalogue) is
judged on what it is: no shape asks a dataset for a catalogue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax import SAXParseException

from rdflib import BNode, Graph, URIRef
from rdflib.exceptions import ParserError
from rdflib.namespace import RDF, RDFS, SH
from rdflib.plugins.parsers.notation3 import BadSyntax

from harvester.config import Config
from harvester.dcat.rdf import NAMESPACES
from harvester.dcat.tables import load_mappings
from harvester.errors import ExitCode, UsageError
from harvester.shacl.validator import Finding, ValidationReport, Validator

#: the formats a document may be in (`--input-format`), with the name a person reads
FORMATS = {"turtle": "Turtle", "xml": "RDF/XML", "json-ld": "JSON-LD", "nt": "N-Triples"}
FORMAT_OF_EXTENSION = {
    ".ttl": "turtle", ".turtle": "turtle", ".n3": "turtle",
    ".rdf": "xml", ".xml": "xml", ".owl": "xml",
    ".jsonld": "json-ld", ".json": "json-ld",
    ".nt": "nt",
}
#: the first bytes of an XML document (a Turtle document may start with `<http://...>`)
_XML_START = re.compile(rb"<(\?xml|!--|!DOCTYPE|[A-Za-z_][\w.-]*:[A-Za-z_])")
_LIST_START = (b"{", b"[")


class DocumentError(UsageError):
    """A document that cannot be validated: not there, unreadable, not parsable in its format,
    or without any RDF statement. Names the file and, when known, the line and column."""

    def __init__(self, path: Path, reason: str, line: int | None = None, column: int | None = None):
        self.path, self.reason, self.line, self.column = path, reason, line, column
        where = "".join(f":{n}" for n in (line, column) if n is not None)
        super().__init__(f"{path}{where}: {reason}")

    def to_dict(self) -> dict[str, Any]:
        return {"message": str(self), "line": self.line, "column": self.column}


# --- what the job returns ------------------------------------------------------------------------


@dataclass
class DocumentValidation:
    """One file: its findings (`report`), or why it could not be validated (`error`). `nodes`
    describes each focus node with findings: its types, and a label that says where a blank node
    hangs (`[] dcat:contactPoint of <dataset>`)."""

    path: Path
    format: str | None = None
    triples: int = 0
    subjects: int = 0
    #: the nodes of a class the shapes target (directly or as a subclass): those that were judged
    judged: int = 0
    report: ValidationReport | None = None
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: DocumentError | None = None
    #: the document's blank nodes (a value that is one has no name a person could look up)
    blank_nodes: frozenset[str] = frozenset()

    @property
    def conforms(self) -> bool:
        return self.error is None and self.report is not None and self.report.conforms

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings if self.report is not None else []

    def counts(self) -> dict[str, int]:
        report = self.report or ValidationReport(conforms=False)
        return {"triples": self.triples, "subjects": self.subjects, "judged": self.judged,
                "violations": len(report.violations),
                "warnings": len(report.warnings), "infos": len(report.infos)}

    @property
    def format_name(self) -> str:
        return FORMATS.get(self.format or "", "-")

    def short(self, iri: str | None) -> str:
        """An IRI (of a path, a class) as a person reads it: `dcat:Dataset` (see `short_name`)."""
        return "" if iri is None else short_name(iri)

    def shown_value(self, value: str) -> str:
        """A finding's value as a person reads it: a blank node as `[]`."""
        return "[]" if value in self.blank_nodes else value

    def by_focus_node(self) -> Iterator[tuple[str, list[Finding]]]:
        """The findings grouped per focus node, in the order of the first finding of each."""
        groups: dict[str, list[Finding]] = {}
        for finding in self.findings:
            groups.setdefault(finding.focus_node, []).append(finding)
        yield from groups.items()

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "format": self.format, "conforms": self.conforms,
                "counts": self.counts(), "findings": [f.to_dict() for f in self.findings],
                "nodes": self.nodes, "error": None if self.error is None else self.error.to_dict()}


@dataclass
class DocumentsValidation:
    """Every file given, each validated on its own; exit code 0 when all conform, 1 when any
    does not, 2 when any could not be read."""

    documents: list[DocumentValidation]

    @property
    def total(self) -> int:
        return len(self.documents)

    @property
    def conform(self) -> int:
        return sum(1 for d in self.documents if d.conforms)

    @property
    def unreadable(self) -> int:
        return sum(1 for d in self.documents if d.error is not None)

    @property
    def not_conform(self) -> int:
        return self.total - self.conform - self.unreadable

    @property
    def exit_code(self) -> ExitCode:
        if self.unreadable:
            return ExitCode.USAGE
        return ExitCode.DATASETS if self.not_conform else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {"conforms": self.exit_code == ExitCode.OK, "files": self.total, "conform": self.conform,
                "not_conform": self.not_conform, "unreadable": self.unreadable,
                "documents": [d.to_dict() for d in self.documents]}


# --- the job -------------------------------------------------------------------------------------


def document_validator(config: Config) -> Validator:
    """The validator documents are judged with: the configuration's shapes, with the mapping
    tables' vocabulary as background (made only when first needed)."""
    mappings = load_mappings(config.mappings)
    return Validator(config.shapes, ontology=mappings.vocabulary, lazy=True, profile=config.profile)


def validate_documents(config: Config, paths: Iterable[Path], input_format: str | None = None,
                       validator: Validator | None = None) -> DocumentsValidation:
    """Validate each file on its own (see the module's docstring). `input_format` (one of
    FORMATS) overrides what the file names say."""
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(f"command line: unknown input format {input_format!r}; expected one of {', '.join(FORMATS)}")
    validator = validator if validator is not None else document_validator(config)
    return DocumentsValidation([validate_document(Path(p), validator, input_format) for p in paths])


def validate_document(path: Path, validator: Validator, input_format: str | None = None) -> DocumentValidation:
    """One file validated, or the DocumentError that stopped it."""
    try:
        graph, fmt = read_document(path, input_format)
    except DocumentError as exc:
        return DocumentValidation(path, error=exc)
    report = validator.validate(graph)
    subjects = {str(s): s for s in set(graph.subjects())}
    nodes = {focus: _node_info(graph, subjects[focus])
             for focus in dict.fromkeys(f.focus_node for f in report.findings) if focus in subjects}
    blank_nodes = frozenset(str(n) for n in graph.all_nodes() if isinstance(n, BNode))
    return DocumentValidation(path, fmt, len(graph), len(subjects), judged_nodes(graph, validator), report, nodes,
                              blank_nodes=blank_nodes)


def judged_nodes(graph: Graph, validator: Validator) -> int:
    """How many nodes of the document are of a class the shapes target, or a subclass of one by
    the background's axioms (a document of none conforms, having been judged on nothing)."""
    targets = set(validator.shapes_graph.objects(None, SH.targetClass))
    background = validator.background
    targeted = {cls for cls in set(graph.objects(None, RDF.type))
                if any(c in targets for c in background.transitive_objects(cls, RDFS.subClassOf))}
    return len({s for s, cls in graph.subject_objects(RDF.type) if cls in targeted})


# --- reading a document --------------------------------------------------------------------------


def read_document(path: Path, input_format: str | None = None) -> tuple[Graph, str]:
    """The document's graph and its format; DocumentError when it cannot be had."""
    data = _read_bytes(path)
    fmt = input_format or format_of(path, data)
    if fmt == "json-ld":
        refuse_remote_contexts(path, data)
    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except Exception as exc:  # noqa: BLE001 - any parser failure is the document's, named with its place
        raise parse_error(path, data, fmt, exc) from None
    if len(graph) == 0:
        raise DocumentError(path, f"geen RDF-uitspraken als {FORMATS[fmt]} / no RDF statements as {FORMATS[fmt]}"
                                  + (" (JSON without @context is not JSON-LD)" if fmt == "json-ld" else ""))
    return graph, fmt


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DocumentError(path, "bestand niet gevonden / no such file")
    if path.is_dir():
        raise DocumentError(path, "is een map, geen bestand / is a folder, not a file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"niet te lezen / cannot be read: {exc.strerror}") from None


def format_of(path: Path, data: bytes) -> str:
    """The format the file's extension names; else the one its first bytes suggest (JSON-LD,
    RDF/XML, else Turtle, of which N-Triples is a part)."""
    known = FORMAT_OF_EXTENSION.get(path.suffix.lower())
    if known is not None:
        return known
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(_LIST_START):
        return "json-ld"
    return "xml" if _XML_START.match(start) else "turtle"


def refuse_remote_contexts(path: Path, data: bytes) -> None:
    """DocumentError when the JSON-LD document refers to a context by URL (`"@context": "https://..."`
    or an `@import`): validation is offline, such a context is never fetched. A document that is
    not JSON at all is left to the parser, which says where."""
    try:
        document = json.loads(data)
    except ValueError:
        return
    for reference in _context_references(document):
        raise DocumentError(path, f"verwijst naar de JSON-LD-context {reference}, die offline niet wordt opgehaald "
                                  f"/ refers to the JSON-LD context {reference}, which is not fetched (offline): "
                                  "put the context in the document itself")


def _context_references(node: Any) -> Iterator[str]:
    """Every context the JSON-LD document names by reference rather than holds itself, also
    the scoped contexts of its term definitions."""
    if isinstance(node, list):
        for item in node:
            yield from _context_references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                yield from _named_contexts(value)
            yield from _context_references(value)


def _named_contexts(value: Any) -> Iterator[str]:
    """The references among one `@context` value: a string, or a context's `@import`."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict) and isinstance(item.get("@import"), str):
            yield item["@import"]


# --- where a parser stopped ----------------------------------------------------------------------


def parse_error(path: Path, data: bytes, fmt: str, exc: Exception) -> DocumentError:
    """The parser's failure as a DocumentError with the line and column it gives (or, for
    N-Triples, the first line that does not parse on its own)."""
    for kind, where in _PLACES:
        if isinstance(exc, kind):
            reason, line, column = where(exc, data)
            break
    else:
        reason, line, column = str(exc) or type(exc).__name__, None, None
    if line is None and fmt == "nt":
        line = _first_bad_ntriples_line(data)
    return DocumentError(path, f"geen geldige {FORMATS[fmt]} / not valid {FORMATS[fmt]}: {reason}", line, column)


def _turtle_place(exc: Any, data: bytes) -> tuple[str, int | None, int | None]:
    """rdflib's Turtle parser: the text it read (UTF-8) and the offset in it (in characters) where
    it stopped; its own line count (from 0) is that of the statement's end, used only without them."""
    text, offset = getattr(exc, "_str", None), getattr(exc, "_i", None)
    if not (isinstance(text, bytes) and isinstance(offset, int)):
        return str(getattr(exc, "_why", exc)), exc.lines + 1, None
    read = text.decode("utf-8", "replace")
    return str(getattr(exc, "_why", exc)), read.count("\n", 0, offset) + 1, offset - read.rfind("\n", 0, offset)


def _xml_place(exc: Any, data: bytes) -> tuple[str, int | None, int | None]:
    return exc.getMessage(), exc.getLineNumber(), exc.getColumnNumber() + 1


def _json_place(exc: Any, data: bytes) -> tuple[str, int | None, int | None]:
    return exc.msg, exc.lineno, exc.colno


def _rdflib_place(exc: Any, data: bytes) -> tuple[str, int | None, int | None]:
    """rdflib's own errors; its RDF/XML handler puts `<base>:line:column: ` before the message."""
    text = str(exc)
    found = re.match(r"^\S*:(\d+):(\d+): (.*)$", text, re.DOTALL)
    if found:
        return found.group(3), int(found.group(1)), int(found.group(2)) + 1
    return text, None, None


def _decoding_place(exc: Any, data: bytes) -> tuple[str, int | None, int | None]:
    before = data[:exc.start]
    return f"not {exc.encoding}: {exc.reason}", before.count(b"\n") + 1, exc.start - before.rfind(b"\n")


#: the parser errors that say where, and how to read it from them
_PLACES: list[tuple[type, Callable[[Any, bytes], tuple[str, int | None, int | None]]]] = [
    (BadSyntax, _turtle_place),
    (SAXParseException, _xml_place),
    (json.JSONDecodeError, _json_place),
    (UnicodeDecodeError, _decoding_place),
    (ParserError, _rdflib_place),
]


def _first_bad_ntriples_line(data: bytes) -> int | None:
    """The number of the first line that does not parse as N-Triples on its own."""
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            Graph().parse(data=line, format="nt")
        except Exception:  # noqa: BLE001 - looking for the line the whole parse stopped at
            return number
    return None


# --- what a focus node is ------------------------------------------------------------------------


def _node_info(graph: Graph, node: Any) -> dict[str, Any]:
    """A focus node's types in the document, and how to show it: an IRI as `<iri>`, a blank
    node by the property and node it hangs from."""
    return {"types": sorted(str(t) for t in graph.objects(node, RDF.type)), "label": _label(graph, node)}


def _label(graph: Graph, node: Any, depth: int = 0) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if not isinstance(node, BNode) or depth >= 3:
        return "[]"
    for subject, predicate in graph.subject_predicates(node):
        return f"[] {short_name(str(predicate))} of {_label(graph, subject, depth + 1)}"
    return "[]"


_PREFIXES = sorted(NAMESPACES.items(), key=lambda item: -len(item[1]))


def short_name(iri: str) -> str:
    """`dcat:Dataset` for an IRI in one of the namespaces an export binds, else the IRI itself."""
    for prefix, namespace in _PREFIXES:
        if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z_][\w-]*", iri[len(namespace):]):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri
