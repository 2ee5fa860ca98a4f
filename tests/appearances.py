"""The DEMO signers' BIG numbers and the signature appearances the tests sign with."""

from __future__ import annotations

from pipeline.adapters.signing import SignatureAppearance

VISSER, SMIT, BAKKER = "39087654301", "49011122201", "19012345601"
"""The SO doctors of the example case (first and second choice) and its own doctor (`layout.DEMO_DOCTORS`)."""

SEAL = SignatureAppearance(naam="ArboNoord DEMO zegel", rol="elektronisch zegel", big_nummer=None,
                           organisatie="ArboNoord", reden="Vastlegging machtiging", locatie="Nederland")
DOCTOR = SignatureAppearance(naam="Dr. E. Visser", rol="second opinion-bedrijfsarts", big_nummer=VISSER,
                             organisatie="Arbopraktijk Visser", reden="Definitief advies second opinion",
                             locatie="Nederland")
ADVICE = SignatureAppearance(naam="Dr. E. Visser", rol="second opinion-bedrijfsarts", big_nummer=VISSER,
                             organisatie="", reden="Definitief advies second opinion", locatie="Nederland")
"""Dr. Visser signing the final advice that waits for him, as he would with `sopipe sign`."""
AKKOORD = SignatureAppearance(naam="Dr. E. Visser", rol="second opinion-bedrijfsarts", big_nummer=VISSER,
                              organisatie="Visser Arbeid & Gezondheid", reden="Akkoord", locatie="Nederland")
