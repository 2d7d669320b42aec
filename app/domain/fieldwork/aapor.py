"""AAPOR outcome rates (response, cooperation, refusal, contact) from final dispositions.

The formulas are those of AAPOR Standard Definitions, written out in ``FORMULAS``.
Counts: I complete, P partial, R refusal and break-off, NC non-contact, O other eligible,
UH / UO unknown eligibility, NE not eligible.

``e``, the estimated share of the unknown-eligibility cases that are eligible, enters RR3,
RR4, REF2 and CON2. AAPOR asks for ``e`` to be justified; by default we use the share of
eligible cases among the resolved ones (``estimate_e``), the usual "proportional
allocation" estimate, and a supervisor may set it. When it cannot be estimated (no
resolved case yet) and was not given, those four rates are None rather than a guess such
as 1.0. Every rate whose denominator is 0 is None.

Rates are computed with exact fractions and returned as floats, so the orderings that
hold in arithmetic (RR1 <= RR3 <= RR5 for 0 <= e <= 1, ...) hold in the results too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from fractions import Fraction

from app.domain.fieldwork.outcomes import aapor_group

__all__ = ["FORMULAS", "DispositionCounts", "Rates", "estimate_e", "rates"]


@dataclass(frozen=True)
class DispositionCounts:
    """How many cases fall in each AAPOR rate category."""

    I: int = 0  # noqa: E741 - AAPOR's own name for completes
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741 - AAPOR's own name for "other eligible"
    UH: int = 0
    UO: int = 0
    NE: int = 0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"count {item.name} must be a whole number >= 0, not {value!r}")

    @classmethod
    def from_codes(cls, codes: Iterable[str]) -> DispositionCounts:
        """Counts of cases from their AAPOR disposition codes (``ValueError`` on a bad code)."""
        return cls(**Counter(aapor_group(code) for code in codes))

    @property
    def total(self) -> int:
        """All cases, eligible or not."""
        return sum(getattr(self, item.name) for item in fields(self))


def estimate_e(counts: DispositionCounts) -> float | None:
    """The share of eligible cases among those whose eligibility is known; None if none is."""
    eligible = counts.I + counts.P + counts.R + counts.NC + counts.O
    resolved = eligible + counts.NE
    return eligible / resolved if resolved else None


# name -> formula, in AAPOR's order (the text shown next to each rate).
FORMULAS: dict[str, str] = {
    "RR1": "I / ((I+P) + (R+NC+O) + (UH+UO))",
    "RR2": "(I+P) / ((I+P) + (R+NC+O) + (UH+UO))",
    "RR3": "I / ((I+P) + (R+NC+O) + e(UH+UO))",
    "RR4": "(I+P) / ((I+P) + (R+NC+O) + e(UH+UO))",
    "RR5": "I / ((I+P) + (R+NC+O))",
    "RR6": "(I+P) / ((I+P) + (R+NC+O))",
    "COOP1": "I / ((I+P) + R + O)",
    "COOP2": "(I+P) / ((I+P) + R + O)",
    "COOP3": "I / ((I+P) + R)",
    "COOP4": "(I+P) / ((I+P) + R)",
    "REF1": "R / ((I+P) + (R+NC+O) + (UH+UO))",
    "REF2": "R / ((I+P) + (R+NC+O) + e(UH+UO))",
    "REF3": "R / ((I+P) + (R+NC+O))",
    "CON1": "((I+P) + R + O) / ((I+P) + R + O + NC + (UH+UO))",
    "CON2": "((I+P) + R + O) / ((I+P) + R + O + NC + e(UH+UO))",
    "CON3": "((I+P) + R + O) / ((I+P) + R + O + NC)",
}


E_FORMULA = "(I+P+R+NC+O) / (I+P+R+NC+O+NE) unless set"  # e: estimated unless set


@dataclass(frozen=True)
class Rates:
    """AAPOR outcome rates; a rate is None when its denominator is 0 (or needs an unknown e)."""

    RR1: float | None
    RR2: float | None
    RR3: float | None
    RR4: float | None
    RR5: float | None
    RR6: float | None
    COOP1: float | None
    COOP2: float | None
    COOP3: float | None
    COOP4: float | None
    REF1: float | None
    REF2: float | None
    REF3: float | None
    CON1: float | None
    CON2: float | None
    CON3: float | None
    e: float | None  # the e used for RR3, RR4, REF2, CON2

    def as_rows(self) -> list[tuple[str, float | None, str]]:
        """(name, value, formula) for each rate in AAPOR's order, then e."""
        rows = [(name, getattr(self, name), formula) for name, formula in FORMULAS.items()]
        rows.append(("e", self.e, E_FORMULA))
        return rows


def _ratio(numerator: Fraction | int, denominator: Fraction | int | None) -> float | None:
    if denominator is None or denominator == 0:
        return None
    return float(Fraction(numerator) / denominator)


def rates(counts: DispositionCounts, e: float | None = None) -> Rates:
    """All AAPOR rates of ``counts``; ``e`` None means estimate it (``estimate_e``)."""
    if e is not None and not 0 <= e <= 1:
        raise ValueError(f"e is a share between 0 and 1, not {e!r}")
    interviews = counts.I + counts.P
    eligible = interviews + counts.R + counts.NC + counts.O
    unknown = counts.UH + counts.UO
    # The estimate as an exact fraction (2/3, not 0.666...), so the rates stay exact.
    resolved = eligible + counts.NE
    exact_e = Fraction(e) if e is not None else Fraction(eligible, resolved) if resolved else None
    used_e = float(exact_e) if exact_e is not None else None
    contacted = interviews + counts.R + counts.O

    def plus(base: int) -> Fraction | None:
        """``base + e(UH+UO)``: unknown (None) when e is."""
        return None if exact_e is None else base + exact_e * unknown

    return Rates(
        RR1=_ratio(counts.I, eligible + unknown),
        RR2=_ratio(interviews, eligible + unknown),
        RR3=_ratio(counts.I, plus(eligible)),
        RR4=_ratio(interviews, plus(eligible)),
        RR5=_ratio(counts.I, eligible),
        RR6=_ratio(interviews, eligible),
        COOP1=_ratio(counts.I, interviews + counts.R + counts.O),
        COOP2=_ratio(interviews, interviews + counts.R + counts.O),
        COOP3=_ratio(counts.I, interviews + counts.R),
        COOP4=_ratio(interviews, interviews + counts.R),
        REF1=_ratio(counts.R, eligible + unknown),
        REF2=_ratio(counts.R, plus(eligible)),
        REF3=_ratio(counts.R, eligible),
        CON1=_ratio(contacted, contacted + counts.NC + unknown),
        CON2=_ratio(contacted, plus(contacted + counts.NC)),
        CON3=_ratio(contacted, contacted + counts.NC),
        e=used_e,
    )
