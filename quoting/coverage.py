"""The coverage guard: a cancel, pull or disable that would take a product's live coverage
under its obligation is refused unless the command carries an explicit override; either way
the alert names the contracts and for how long the shortfall would last."""

import math
from dataclasses import dataclass
from fractions import Fraction

from core.enums import Phase
from quoting.rules import RulePack

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class CoverageCheck:
    allowed: bool
    alert: bool
    covered_before: int
    covered_after: int
    total: int
    required: float
    contracts: tuple[str, ...]
    message: str


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def check_withdrawal(product: str, contracts: list[str], live_valid: set[str],
                     withdraw: set[str], phase: Phase, rules: RulePack, *, override: bool,
                     now_ns: int, phase_ends_ns: int | None) -> CoverageCheck:
    """May the quotes on `withdraw` go? `live_valid` are the product's contracts that carry a
    valid quote now; the obligation is the rule pack's coverage for `phase`."""
    required = rules.coverage_required(phase)
    before = len(live_valid & set(contracts))
    losing = tuple(sorted(live_valid & withdraw & set(contracts)))
    after = before - len(losing)
    total = len(contracts)
    needed = math.ceil(Fraction(str(required)) * total)  # 80% of 40 is exactly 32
    if not losing or after >= needed:
        return CoverageCheck(True, False, before, after, total, required, losing,
                             f"{product}: coverage stays {after}/{total}")
    left = ""
    if phase_ends_ns is not None and phase_ends_ns > now_ns:
        left = f" for the remaining {_duration((phase_ends_ns - now_ns) / NS)} of the {phase}"
    shown = ", ".join(losing[:10]) + (f" and {len(losing) - 10} more" if len(losing) > 10
                                       else "")
    message = (f"{product}: withdrawing {shown} would leave {after} of {total} contracts "
               f"covered ({after / total:.1%}) in {phase}, under the {required:.0%} obligation "
               f"({needed} needed){left}")
    if override:
        return CoverageCheck(True, True, before, after, total, required, losing,
                             message + "; done on override")
    return CoverageCheck(False, True, before, after, total, required, losing,
                         message + "; refused without an override")
