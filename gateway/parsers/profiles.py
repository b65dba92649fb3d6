"""Which profile an e-invoice claims, read from its specification identifier (BT-24).

BT-24 (``ram:GuidelineSpecifiedDocumentContextParameter/ram:ID`` in CII and ZUGFeRD 1.0,
``cbc:CustomizationID`` in UBL) names the specification the document follows; the
profile it names decides which official rule sets judge the document
(:mod:`gateway.validation.rulesets`) and, for CII, which XSD the parser applies. This is the
one place that reads it; the profile names are those of ``facturx.get_level()`` plus
``xrechnung``, ``peppol`` and ``zugferd1``:

===================  ===================================================================  ============
profile              BT-24 values (current first, then the older spellings still sent)    EN 16931?
===================  ===================================================================  ============
``minimum``          ``urn:factur-x.eu:1p0:minimum``, ``urn:zugferd.de:2p0:minimum``      no (no lines)
``basicwl``          ``urn:factur-x.eu:1p0:basicwl``, ``urn:zugferd.de:2p0:basicwl``      no (no lines)
``basic``            ``urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic``;     yes (subset)
                     ``…2017:compliant:factur-x.eu:1p0:basic`` (Factur-X 1.0),
                     ``…#compliant#urn:zugferd.de:2p0:basic``, ``urn:zugferd.de:2p0:basic``
``en16931``          ``urn:cen.eu:en16931:2017``;                                         yes
                     ``…2017:compliant:factur-x.eu:1p0:en16931`` (Factur-X 1.0)
``extended``         ``urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended``;  conformant
                     ``…2017:conformant:factur-x.eu:1p0:extended``, ``…2017:compliant:…``
                     (Factur-X 1.0), ``…#conformant#urn:zugferd.de:2p0:extended``,
                     ``urn:zugferd.de:2p0:extended``
``extended-ctc-fr``  ``urn:cen.eu:en16931:2017#conformant#``                                conformant
                     ``urn.cpro.gouv.fr:1p0:extended-ctc-fr``
``xrechnung``        ``urn:cen.eu:en16931:2017#compliant#``                                 yes (CIUS)
                     ``urn:xeinkauf.de:kosit:xrechnung_3.0`` (any version, with or
                     without an extension), older
                     ``…#compliant#urn:xoev-de:kosit:standard:xrechnung_2.1``
``peppol``           ``urn:cen.eu:en16931:2017#compliant#``                                 yes (CIUS)
                     ``urn:fdc:peppol.eu:2017:poacc:billing:3.0``
``zugferd1``         ``urn:ferd:CrossIndustryDocument:invoice:1p0:`` + ``basic``,          no (before
                     ``comfort`` or ``extended``                                          EN 16931)
===================  ===================================================================  ============

Anything else, another CIUS included, is None: *not recognised*, never guessed; the rule
selection then applies its EN 16931 floor. Comparison ignores case and surrounding blanks.

Real values, each from the public corpus (``shared/corpus``) file named above it.

``cii-xml/akretion__factur-x-minimum.xml``:

>>> profile_of('urn:factur-x.eu:1p0:minimum')
'minimum'

``facturx-pdf/zfc__zugferd_2p0_MINIMUM.pdf``:

>>> profile_of('urn:zugferd.de:2p0:minimum')
'minimum'

``cii-xml/akretion__factur-x-basicwl.xml``:

>>> profile_of('urn:factur-x.eu:1p0:basicwl')
'basicwl'

``cii-xml/akretion__factur-x-basic.xml``:

>>> profile_of('urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic')
'basic'

``facturx-pdf/zfc__Avoir_FR_type381_BASIC.pdf``:

>>> profile_of('urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:basic')
'basic'

``facturx-pdf/zfc__zugferd_2p0_BASIC_Rechnungskorrektur.pdf``:

>>> profile_of('urn:cen.eu:en16931:2017#compliant#urn:zugferd.de:2p0:basic')
'basic'

``cii-xml/cen__CII_example1.xml``, ``ubl-xml/cen__ubl-tc434-example1.xml``:

>>> profile_of('urn:cen.eu:en16931:2017')
'en16931'

``facturx-pdf/mustang__invalidXMP.pdf``:

>>> profile_of('urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931')
'en16931'

``cii-xml/akretion__factur-x-extended.xml``:

>>> profile_of('urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended')
'extended'

``facturx-pdf/zfc__MustangRE-20171118_506_ZUGFeRD1and2.pdf``:

>>> profile_of('urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:extended')
'extended'

``facturx-pdf/zfc__zugferd_2p0_EXTENDED_Fremdwaehrung.pdf``:

>>> profile_of('urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended')
'extended'

``ubl-xml/akretion__ubl-21-extended-ctc-fr.xml``:

>>> profile_of('urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr')
'extended-ctc-fr'

``cii-xml/kosit__01.14a-INVOICE_uncefact.xml``:

>>> profile_of('urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0')
'xrechnung'

``facturx-pdf/zfc__XRECHNUNG_Einfach.pdf``:

>>> profile_of('urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.1')
'xrechnung'

``ubl-xml/cen__BIS_Billing_30-Factoring.xml``:

>>> profile_of('urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0')
'peppol'

``facturx-pdf/zfc__ZUGFeRD_1p0_COMFORT_Einfach.pdf`` (and, in a CII file,
``cii-xml/cen__CII_business_example_02.xml``):

>>> profile_of('urn:ferd:CrossIndustryDocument:invoice:1p0:comfort')
'zugferd1'

``facturx-pdf/zfc__fail1.pdf`` (a typo: not recognised, never guessed):

>>> profile_of('urn:ferd:CrossIndustryDocument:invoice:1p0:komfort') is None
True

A CIUS of EN 16931 that is none of the above:

>>> profile_of('urn:cen.eu:en16931:2017#compliant#urn:example.com:cius') is None
True
"""

from __future__ import annotations

import re
from typing import Literal, get_args

Profile = Literal[
    "minimum", "basicwl", "basic", "en16931", "extended", "extended-ctc-fr", "xrechnung", "peppol", "zugferd1"
]
PROFILES: tuple[Profile, ...] = get_args(Profile)

#: How people and reports name each profile (the Factur-X XMP vocabulary where there is one).
PROFILE_LABELS: dict[Profile, str] = {
    "minimum": "MINIMUM",
    "basicwl": "BASIC WL",
    "basic": "BASIC",
    "en16931": "EN 16931",
    "extended": "EXTENDED",
    "extended-ctc-fr": "EXTENDED-CTC-FR",
    "xrechnung": "XRECHNUNG",
    "peppol": "Peppol BIS Billing 3.0",
    "zugferd1": "ZUGFeRD 1.0",
}

_EN16931 = "urn:cen.eu:en16931:2017"
_FACTUR_X = "urn:factur-x.eu:1p0:"
_ZUGFERD_2 = "urn:zugferd.de:2p0:"
_ZUGFERD_1 = "urn:ferd:crossindustrydocument:invoice:1p0:"
#: The levels of ZUGFeRD 1.0 (its XMP ``ConformanceLevel`` says the same in capitals).
ZUGFERD1_LEVELS = ("basic", "comfort", "extended")

#: Exact BT-24 values, lower case.
_GUIDELINES: dict[str, Profile] = {
    f"{_FACTUR_X}minimum": "minimum",
    f"{_ZUGFERD_2}minimum": "minimum",
    f"{_FACTUR_X}basicwl": "basicwl",
    f"{_ZUGFERD_2}basicwl": "basicwl",
    f"{_EN16931}#compliant#{_FACTUR_X}basic": "basic",
    f"{_EN16931}:compliant:factur-x.eu:1p0:basic": "basic",
    f"{_EN16931}#compliant#{_ZUGFERD_2}basic": "basic",
    f"{_ZUGFERD_2}basic": "basic",
    _EN16931: "en16931",
    f"{_EN16931}:compliant:factur-x.eu:1p0:en16931": "en16931",
    f"{_EN16931}#conformant#{_FACTUR_X}extended": "extended",
    f"{_EN16931}:conformant:factur-x.eu:1p0:extended": "extended",
    f"{_EN16931}:compliant:factur-x.eu:1p0:extended": "extended",
    f"{_EN16931}#conformant#{_ZUGFERD_2}extended": "extended",
    f"{_ZUGFERD_2}extended": "extended",
    f"{_EN16931}#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr": "extended-ctc-fr",
    f"{_EN16931}#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0": "peppol",
    **{f"{_ZUGFERD_1}{level}": "zugferd1" for level in ZUGFERD1_LEVELS},
}

#: XRechnung, any version, optionally followed by an extension (``…#conformant#…extension…``).
_XRECHNUNG = re.compile(
    r"urn:cen\.eu:en16931:2017#compliant#urn:(?:xeinkauf\.de:kosit|xoev-de:kosit:standard):xrechnung_\d+(?:\.\d+)*"
    r"(?:#.*)?"
)


def profile_of(guideline_id: str | None) -> Profile | None:
    """The profile a BT-24 value names, or None when it names none we recognise (see the table above)."""
    if guideline_id is None:
        return None
    value = guideline_id.strip().lower()
    found = _GUIDELINES.get(value)
    if found is not None:
        return found
    return "xrechnung" if _XRECHNUNG.fullmatch(value) else None


def zugferd1_level(guideline_id: str | None) -> str | None:
    """The ZUGFeRD 1.0 level (``basic``, ``comfort``, ``extended``) a BT-24 value names, else None.

    >>> zugferd1_level("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort")
    'comfort'
    """
    if guideline_id is None or profile_of(guideline_id) != "zugferd1":
        return None
    return guideline_id.strip().lower().removeprefix(_ZUGFERD_1)
