"""The SBDH envelope (UN/CEFACT Standard Business Document Header) around a UBL invoice.

Peppol access points hand documents over wrapped in a ``StandardBusinessDocument``:
a ``StandardBusinessDocumentHeader`` (sender, receiver, document type, instance id)
followed by exactly one business document, here a UBL ``Invoice`` or ``CreditNote``.
The official EN 16931 rules assume the invoice is the document root, so the envelope
is taken off first (ConnectingEurope/eInvoicing-EN16931#446): :func:`unwrap` returns
the invoice as the root of a tree of its own, which the UBL parser validates against
its XSD, reads, and hands on for the Schematron step. The header itself is not
checked: its routing data is the network's business, not the factor's.

>>> from gateway.limits import Limits
>>> from gateway.parsers.xml_safety import parse_xml
>>> invoice = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
>>> wrapped = parse_xml(
...     b'<StandardBusinessDocument xmlns="' + SBDH_NS.encode() + b'"><StandardBusinessDocumentHeader/>'
...     + invoice + b"</StandardBusinessDocument>",
...     Limits(),
... )
>>> unwrap(wrapped).tag
'{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice'
"""

from __future__ import annotations

import copy

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.model import Issue
from gateway.parsers.xml_safety import RootElement, sniff_element_after, sniff_root

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
ROOT_TAG = f"{{{SBDH_NS}}}StandardBusinessDocument"
HEADER_TAG = f"{{{SBDH_NS}}}StandardBusinessDocumentHeader"


def is_envelope(root: RootElement | None) -> bool:
    """True for a sniffed ``StandardBusinessDocument`` root."""
    return root is not None and (root.namespace, root.local_name) == (SBDH_NS, "StandardBusinessDocument")


def sniff_payload(head: bytes) -> RootElement | None:
    """The business document an SBDH envelope carries, read from the first bytes; None if not an envelope."""
    if not is_envelope(sniff_root(head)):
        return None
    return sniff_element_after(head, "StandardBusinessDocumentHeader")


def unwrap(root: etree._Element) -> etree._Element | Issue:
    """The single business document inside the envelope, as the root of its own tree, or why not.

    The copy keeps the namespace declarations it needs and its source lines, so
    schema messages still point at the line of the file as received.
    """
    documents = [child for child in root if isinstance(child.tag, str) and child.tag != HEADER_TAG]
    if len(documents) != 1:
        found = ", ".join(etree.QName(child).localname for child in documents) or "nothing"
        return Issue(
            "GW-SBDH-PAYLOAD",
            f"The SBDH envelope (StandardBusinessDocument) must carry exactly one invoice or credit note "
            f"after its header; it carries {found}. Send one document per envelope.",
            location=f"line {root.sourceline}",
        )
    return copy.deepcopy(documents[0])
