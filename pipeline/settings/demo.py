"""The DEMO master data: the fictional organisations of the example case SO-2026-0042, which `sopipe init` writes into
the default sopipe.toml (`pipeline.settings.generate`), and the example doctor written there commented out."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

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
DEMO_ARTS_EXAMPLE: Mapping[str, Mapping[str, object]] = MappingProxyType({
    "39087654301": {"naam": "Dr. E. Visser", "uzi_nummer": "12345678", "certificaat_sha256": [":".join(["3F"] * 32)]}})
"""The doctor of the example case as a commented-out `[artsen.<BIG>]` example in the default sopipe.toml."""
