"""A dataset's agents: dct:publisher, dct:creator and dcat:contactPoint.

The publisher is the package's organisation in the organisations table; the creator its own
creator or author (else, when `creator_is_publisher`, the publisher); the contact point the
first contact with a valid e-mail address or URL (else the source's). docs/mapping.md gives
the fields read and their order.
"""

from __future__ import annotations

from typing import Any

from rdflib import Literal, URIRef

from harvester.dcat.descriptions import contact_triples
from harvester.dcat.fields import EMAIL, as_list, first_given, is_http, text_of
from harvester.dcat.package import PackageMapping
from harvester.dcat.rdf import DCAT, DCT, FOAF, TYPE
from harvester.dcat.text import single_line

__all__ = ["add_agents"]

#: (URI, triples describing it)
Agent = tuple[URIRef, tuple]


def add_agents(m: PackageMapping) -> None:
    """Link the dataset to its publisher, creator and contact point, each described."""
    publisher = _publisher(m)
    _link(m, DCT.publisher, publisher)
    _link(m, DCT.creator, _creator(m, publisher))
    _link(m, DCAT.contactPoint, _contact(m))


def _link(m: PackageMapping, predicate: Any, agent: Agent | None) -> None:
    if agent is not None:
        m.add(m.ds, predicate, agent[0])
        m.describe(agent[1])


# --- publisher ----------------------------------------------------------------------------------


def _publisher(m: PackageMapping) -> Agent | None:
    """The owner organisation (or the package's own publisher field) in the organisations
    table, else the organisation_fallback."""
    candidates = _publisher_candidates(m)
    for value, _ in candidates:
        found = m.source.agent(value)
        if found is not None:
            return found
    shown, field = candidates[0] if candidates else (None, "organization")
    fallback = m.o.organisation_fallback
    if fallback:
        return _organisation_fallback(m, fallback, shown, field)
    if shown:
        m.issues.error(field, shown, f"organisation {shown!r} is not in the organisations "
                                     "table and no organisation_fallback is configured "
                                     "(dct:publisher is mandatory)")
    else:
        m.issues.error(field, None, "the package has no organisation (owner_org) and no "
                                    "organisation_fallback is configured (dct:publisher is "
                                    "mandatory)")
    return None


def _publisher_candidates(m: PackageMapping) -> list[tuple[str, str]]:
    """(value, field) pairs naming the publisher, in the order they are tried."""
    pkg = m.pkg
    org = pkg.get("organization") if isinstance(pkg.get("organization"), dict) else None
    if org is None and m.context is not None:
        org = m.context.organization(text_of(pkg.get("owner_org")))
    candidates: list[tuple[str, str]] = []
    if org:
        candidates += [(text_of(org.get(k)), "organization") for k in ("name", "title", "id")]
    elif text_of(pkg.get("owner_org")):
        candidates.append((text_of(pkg.get("owner_org")), "owner_org"))
    explicit = agent_fields(pkg, m.extras, "publisher")
    if explicit:
        candidates += [(explicit.get("uri", ""), "publisher"),
                       (explicit.get("name", ""), "publisher")]
    return [(v, f) for v, f in candidates if v]


def _organisation_fallback(m: PackageMapping, fallback: str, shown: str | None,
                           field: str) -> Agent | None:
    found = m.source.agent(fallback)
    if found is None:
        m.issues.error(field, fallback, f"the configured organisation_fallback {fallback!r} "
                                        "is not in the organisations table")
        return None
    why = (f"organisation {shown!r} is not in the organisations table" if shown
           else "the package has no organisation")
    m.issues.warning(field, shown, f"{why}; using organisation_fallback {fallback!r}")
    return found


# --- creator ------------------------------------------------------------------------------------


def _creator(m: PackageMapping, publisher: Agent | None) -> Agent | None:
    """The package's own creator, else its author (an organisation of the table or an agent of
    its own), else the publisher when `creator_is_publisher`."""
    creator = f"{m.local}#creator"
    explicit = agent_fields(m.pkg, m.extras, "creator")
    if explicit:
        for value in (explicit.get("uri"), explicit.get("name")):
            found = m.source.agent(value)
            if found is not None:
                return found
        if explicit.get("name"):
            return _own_agent(explicit, explicit.get("uri"), creator)
    author = single_line(text_of(m.pkg.get("author")))
    if author:
        return m.source.agent(author) or _own_agent(
            {"name": author, "email": text_of(m.pkg.get("author_email"))}, None, creator)
    if m.o.creator_is_publisher:
        return publisher
    m.issues.error("author", None, "the package names no creator (author) and "
                                   "creator_is_publisher is not set (dct:creator is mandatory)")
    return None


def _own_agent(fields: dict, uri: str | None, fallback_uri: str) -> Agent:
    """An agent the organisations table does not know: foaf:Agent with foaf:name, foaf:mbox
    and foaf:homepage."""
    ref = URIRef(uri) if uri and is_http(uri) else URIRef(fallback_uri)
    t = [(ref, TYPE, FOAF.Agent), (ref, FOAF.name, Literal(single_line(fields["name"])))]
    email = fields.get("email", "").removeprefix("mailto:")
    if EMAIL.match(email):
        t.append((ref, FOAF.mbox, URIRef(f"mailto:{email}")))
    if is_http(fields.get("url", "")):
        homepage = URIRef(fields["url"])
        t.append((ref, FOAF.homepage, homepage))
        t.append((homepage, TYPE, FOAF.Document))
    return ref, tuple(t)


def agent_fields(pkg: dict, extras: dict, role: str) -> dict[str, str]:
    """A package's own publisher/creator (ckanext-dcat list-of-dicts or `<role>_*` extras)."""
    value = pkg.get(role)
    items = as_list(value)
    if items and isinstance(items[0], dict):
        item = items[0]
        return {"name": text_of(item.get("name")),
                "uri": text_of(item.get("uri") or item.get("identifier")),
                "email": text_of(item.get("email")), "url": text_of(item.get("url"))}
    out = {}
    for key, names in (("name", (f"{role}_name", f"dcat_{role}_name")),
                       ("uri", (f"{role}_uri", f"dcat_{role}_uri", f"{role}_identifier")),
                       ("email", (f"{role}_email", f"dcat_{role}_email")),
                       ("url", (f"{role}_url", f"dcat_{role}_url"))):
        found = text_of(first_given(pkg, extras, *names))
        if found:
            out[key] = found
    if not out and isinstance(value, str) and value.strip():
        out = {"name": value.strip()}
    return out


# --- contact point ------------------------------------------------------------------------------


def _contact(m: PackageMapping) -> Agent | None:
    """The first contact with a valid e-mail address or URL, else the source's contact."""
    for candidate in _contact_candidates(m):
        found = _contact_of(m, candidate)
        if found is not None:
            return found
    default = m.source.contact(m.portal)
    if default is None:
        m.issues.error("maintainer_email", None, "the package has no contact e-mail or URL and "
                                                 "neither contact_email nor contact_url is "
                                                 "configured (dcat:contactPoint is mandatory)")
    return default


def _contact_candidates(m: PackageMapping) -> list[dict[str, str]]:
    """The package's contacts in the order they are tried: its `contact` list, the
    contact_* fields, the maintainer, the author."""
    pkg = m.pkg
    candidates = [{k: text_of(item.get(k)) for k in ("name", "email", "url", "identifier", "uri")}
                  for item in as_list(pkg.get("contact")) if isinstance(item, dict)]
    email = text_of(m.get("contact_email", "contact-email"))
    url = text_of(m.get("contact_uri", "contact_url"))
    if email or url:
        candidates.append({"name": text_of(m.get("contact_name")), "email": email, "url": url})
    for who in ("maintainer", "author"):
        if text_of(pkg.get(f"{who}_email")):
            candidates.append({"name": text_of(pkg.get(who)),
                               "email": text_of(pkg.get(f"{who}_email"))})
    return candidates


def _contact_of(m: PackageMapping, candidate: dict[str, str]) -> Agent | None:
    """A contact point from one candidate, None when it has no valid e-mail address or URL."""
    email = candidate.get("email", "").removeprefix("mailto:")
    if email and not EMAIL.match(email):
        m.issues.warning("contact", email, "not an e-mail address; ignored")
        email = ""
    url = candidate.get("url", "")
    url = url if is_http(url) else ""
    if not (email or url):
        return None
    ref_value = candidate.get("uri") or candidate.get("identifier") or ""
    ref = URIRef(ref_value) if is_http(ref_value) else URIRef(f"{m.local}#contact")
    fn = single_line(candidate.get("name")) or m.o.contact_name or email or url
    return ref, contact_triples(ref, fn, email or None, url or None)
