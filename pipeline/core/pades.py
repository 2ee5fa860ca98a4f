"""PAdES baseline levels, and which level a signer's signature gets: the rule said once (pure).

The configuration (`[signing] level_advies`, `level_machtiging`), the signing adapter, `sopipe sign` and the
check of a returned signed document all take the level from here.
"""

from __future__ import annotations

from enum import StrEnum

from pipeline.core.kinds import Signer
from pipeline.errors import SigningError


class PadesLevel(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1), each including the one before (in this order)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def needs_timestamp(self) -> bool:
        return self is not PadesLevel.B_B

    @property
    def embeds_validation_data(self) -> bool:
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)

    @property
    def rank(self) -> int:
        """0 for B-B up to 3 for B-LTA: a level includes every level of a lower rank."""
        return list(PadesLevel).index(self)

    @classmethod
    def parse(cls, value: str | PadesLevel) -> PadesLevel:
        """`value` in any case (`b-lta`); a SigningError naming the levels for anything else."""
        try:
            return cls(str(value.value if isinstance(value, PadesLevel) else value).upper())
        except ValueError:
            raise SigningError(f"Onbekend PAdES-niveau {value!r}; kies uit "
                               f"{', '.join(level.value for level in cls)}", field="level") from None


def default_level(*, timestamps: bool) -> PadesLevel:
    """The level when none is configured: B-LTA (verifiable for the 20 years the dossier is kept) when a
    timestamp server is set, else B-B (all that can be made without one)."""
    return PadesLevel.B_LTA if timestamps else PadesLevel.B_B


def signature_level(signer: Signer, *, level_advies: str | None, level_machtiging: str | None,
                    timestamps: bool) -> PadesLevel:
    """The level of a signature by `signer`: the SO doctor's (the final advice) at `level_advies`, the seal's and
    the own doctor's at `level_machtiging`; unset, the `default_level`."""
    chosen = level_advies if signer is Signer.SO_BEDRIJFSARTS else level_machtiging
    return PadesLevel.parse(chosen) if chosen else default_level(timestamps=timestamps)
