"""The DEMO data of the fictional example case SO-2026-0042: the organisations `sopipe init` writes into the default
sopipe.toml (`pipeline.settings.generate`), the arbodienst's letterhead logo, and the doctors the DEMO PKI makes keys
for (the first one also written into sopipe.toml, commented out, as the example of the doctors' registry)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from pipeline.package_data import EXAMPLES

_MEDICAL_VAT_EXEMPTION = ("Vrijgesteld van omzetbelasting op grond van art. 11 lid 1 sub g Wet op de omzetbelasting "
                          "1968 (gezondheidskundige verzorging van de mens door een arts).")
DEMO_ORGANISATIES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "arbonoord": {
        "naam": "ArboNoord", "straat": "Stationsplein 1", "postcode": "3511 ED", "plaats": "Utrecht",
        "telefoon": "030 123 45 67", "email": "secretariaat@arbonoord.example", "kvk_nummer": "12345678",
        "iban": "NL91 ABNA 0417 1643 00",
        "klachten": "Een klacht kunt u schriftelijk indienen bij de klachtenfunctionaris van ArboNoord, "
                    "Stationsplein 1, 3511 ED Utrecht (klachten@arbonoord.example), volgens de klachtenregeling "
                    "van ArboNoord."},
    "arbopraktijk-visser": {
        "naam": "Arbopraktijk Visser", "straat": "Stadsring 88", "postcode": "3811 HR", "plaats": "Amersfoort",
        "telefoon": "033 765 43 21", "email": "e.visser@arbopraktijkvisser.example", "kvk_nummer": "87654321",
        "iban": "NL20 INGB 0001 2345 67",
        "btw_vrijstelling": _MEDICAL_VAT_EXEMPTION,
        "klachten": "Een klacht over de second opinion kunt u schriftelijk indienen bij Arbopraktijk Visser, "
                    "Stadsring 88, 3811 HR Amersfoort; komt u er samen niet uit, dan kunt u zich wenden tot de "
                    "onafhankelijke klachtencommissie waarbij de praktijk is aangesloten (zie de klachtenregeling "
                    "van de praktijk)."},
    "smit-bg": {
        "naam": "Smit Bedrijfsgeneeskunde", "straat": "Kerkstraat 5", "postcode": "3811 CV", "plaats": "Amersfoort",
        "telefoon": "033 111 22 33", "email": "k.smit@smitbg.example", "kvk_nummer": "11223344",
        "iban": "NL44 RABO 0123 4567 89",
        "btw_vrijstelling": _MEDICAL_VAT_EXEMPTION,
        "klachten": "Een klacht kunt u schriftelijk indienen bij Smit Bedrijfsgeneeskunde, Kerkstraat 5, 3811 CV "
                    "Amersfoort, volgens de klachtenregeling van de praktijk."},
})
"""The DEMO organisations of the fictional example case SO-2026-0042, written by `sopipe init`."""
DEMO_ORGANISATIE = DEMO_ORGANISATIES["arbonoord"]["naam"]
"""The DEMO arbodienst, named in the DEMO PKI's seal."""
DEMO_LOGO = EXAMPLES / "logo-arbonoord.png"
"""The fictional letterhead logo of the DEMO arbodienst (tools/make_demo_logo.py); `init` puts it beside the config."""
DEMO_DOCTORS = (("Dr. E. Visser", "39087654301"), ("Dr. K. Smit", "49011122201"), ("Dr. P. Bakker", "19012345601"))
"""DEMO identities: the example's SO doctors (first and second choice) and its own doctor (signs the request)."""
DEMO_ARTS_EXAMPLE: Mapping[str, Mapping[str, object]] = MappingProxyType({
    big: {"naam": naam, "uzi_nummer": "12345678", "certificaat_sha256": [":".join(["3F"] * 32)]}
    for naam, big in DEMO_DOCTORS[:1]})
"""The first SO doctor as a commented-out `[artsen.<BIG>]` example in the default sopipe.toml."""
