"""The mapping step of high-value datasets: `add_high_value`.

A package the source's high-value marking names (options.high_value, see
harvester.dcat.hvd_categories) gets, as the DCAT-AP HVD profile asks:

- dcatap:hvdCategory: each of its categories, described as the list describes it;
- dcatap:applicableLegislation <http://data.europa.eu/eli/reg_impl/2023/138/oj> (the HVD
  regulation), an eli:LegalResource, on the dataset, on each of its distributions and, when a
  distribution is served by the source's data service, on that service, which gets the
  categories too (an API that serves high-value datasets is part of them).

Every other package's triples are untouched.
"""

from __future__ import annotations

from rdflib import URIRef

from harvester.dcat.hvd_categories import HVD_LEGISLATION, legislation_triples
from harvester.dcat.package import PackageMapping
from harvester.dcat.rdf import DCAT, DCATAP
from harvester.dcat.terms import term

__all__ = ["add_high_value"]


def add_high_value(m: PackageMapping) -> None:
    """The HVD category and legislation of a package marked high-value (see the module)."""
    marking = m.o.high_value
    categories = marking.categories_for(m.pkg, m.extras) if marking is not None else ()
    if not categories:
        return
    law = term(HVD_LEGISLATION)
    refs = [term(uri) for uri in categories]
    for ref in refs:
        m.add(m.ds, DCATAP.hvdCategory, ref)
        m.describe(m.source.concept(str(ref)))
    m.add(m.ds, DCATAP.applicableLegislation, law)
    m.describe(m.source.cached(("hvd-legislation",), legislation_triples))
    for distribution in _distributions(m):
        m.add(distribution, DCATAP.applicableLegislation, law)
    if m.uses_service and m.source.service_uri is not None:
        service = term(str(m.source.service_uri))
        for ref in refs:
            m.add(service, DCATAP.hvdCategory, ref)
        m.add(service, DCATAP.applicableLegislation, law)


def _distributions(m: PackageMapping) -> list[URIRef]:
    return list(dict.fromkeys(o for s, p, o in m.triples if s == m.ds and p == DCAT.distribution))
