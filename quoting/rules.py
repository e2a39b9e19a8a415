"""Rule packs: the exchanges' market-making numbers as data (configs/rules/*.toml).

The code knows the kinds of obligation (size, spread, coverage, participation, response) and
their exemptions; every number comes from a pack. Spread limits are kept as exact fractions so
that a spread equal to the limit passes, whatever the tick.
"""

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

import msgspec

from core.enums import InstrumentKind, Phase

Share = Annotated[float, msgspec.Meta(ge=0, le=1)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]


class _Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class SpreadRule(_Rule, frozen=True, kw_only=True):
    """ask - bid <= max(pct x basis price, abs_yuan, abs_ticks x tick).

    `basis` is the bid (SSE options: 10% x bid) or the ask (BSE: (ask - bid) / ask <= 2%).
    `tier_pct` overrides `pct` by contract tier (SSE: near 10%, far 20%); `auction_pct` applies
    in call auctions when set (BSE: 3%)."""

    basis: Literal["bid", "ask"]
    pct: Decimal
    tier_pct: dict[str, Decimal] = {}
    auction_pct: Decimal | None = None
    abs_yuan: Decimal = Decimal(0)
    abs_ticks: int = 0


class SizeRule(_Rule, frozen=True, kw_only=True):
    """Minimum quantity on each side, by phase; `min_amount_yuan` adds a minimum value
    (price x quantity x multiplier) per side (funds: the average amount per order)."""

    continuous: PositiveInt
    auction: PositiveInt
    min_amount_yuan: Decimal = Decimal(0)


class CoverageRule(_Rule, frozen=True, kw_only=True):
    """Share of a product's contracts that must carry a valid quote, by phase."""

    continuous: Share = 0.0
    opening_auction: Share = 0.0
    closing_auction: Share = 0.0


class ParticipationRule(_Rule, frozen=True, kw_only=True):
    continuous: Share = 0.0
    opening_auction: Share = 0.0
    circuit_breaker_auction: Share = 0.0
    closing_auction: Share = 0.0


class RfqRule(_Rule, frozen=True, kw_only=True):
    response_s: PositiveInt = 15
    min_rest_s: PositiveInt = 15
    rate: Share = 0.0


class Exemptions(_Rule, frozen=True, kw_only=True):
    """When the obligations give way (RULES.md 1.1-1.4).

    `one_side_at_limit`: a contract at limit-up or limit-down may be quoted one side.
    `cheap_option_bid`: under this ask price (by underlying kind) the bid may be withdrawn.
    `iopv_deviation`: a fund priced this far from its IOPV may quote the side against the move.
    `free_phases`: phases in which nothing is owed (ZCE's opening auction)."""

    one_side_at_limit: bool = True
    cheap_option_bid: dict[str, Decimal] = {}
    iopv_deviation: Decimal | None = None
    free_phases: tuple[Phase, ...] = ()


class Grading(_Rule, frozen=True, kw_only=True):
    """SSE's monthly grade (002 ch. 5): spread ratio and weighted participation bands, the
    volume adjustment, and the annual fold."""

    spread_excellent: Decimal = Decimal("0.60")
    spread_pass: Decimal = Decimal("1.00")
    participation_excellent: Decimal = Decimal("0.80")
    participation_pass: Decimal = Decimal("0.70")
    volume_up: Decimal = Decimal("1.25")
    volume_down: Decimal = Decimal("0.50")


class Evaluation(_Rule, frozen=True, kw_only=True):
    """How the exchange evaluates what was shown (windows, weights, deductions)."""

    opening_window_s: int = 300
    closing_window_s: int = 60
    circuit_breaker_window_s: int = 60
    weights: tuple[Decimal, Decimal, Decimal] = (Decimal("0.05"), Decimal("0.10"),
                                                  Decimal("0.85"))
    composite_floor: Decimal = Decimal("0.30")
    closing_factors: tuple[tuple[Decimal, Decimal], ...] = (
        (Decimal("1.0"), Decimal("1.0")), (Decimal("0.9"), Decimal("0.9")),
        (Decimal("0.8"), Decimal("0.8")))
    """(closing participation at least, factor), highest first; below the last: 0"""
    grading: Grading = Grading()
    opening_at: str = "09:20:00"
    closing_at: str = "14:58:00"
    top_up_cap_s: int = 120
    deduction_step: Decimal = Decimal("0.05")
    deduction_points: dict[str, int] = msgspec.field(
        default_factory=lambda: {"opening": 2, "closing": 2, "continuous": 1})


class RulePack(_Rule, frozen=True, kw_only=True):
    name: str
    venue: str
    kinds: tuple[InstrumentKind, ...]
    sources: str
    spread: SpreadRule
    size: SizeRule
    coverage: CoverageRule = CoverageRule()
    participation: ParticipationRule = ParticipationRule()
    rfq: RfqRule = RfqRule()
    exemptions: Exemptions = Exemptions()
    evaluation: Evaluation = Evaluation()

    def spread_pct(self, tier: str | None, phase: Phase) -> Fraction:
        """The percentage part of the spread limit, exactly."""
        rule = self.spread
        if phase.is_auction and rule.auction_pct is not None:
            return Fraction(rule.auction_pct)
        if tier is not None and tier in rule.tier_pct:
            return Fraction(rule.tier_pct[tier])
        return Fraction(rule.pct)

    def spread_floor_ticks(self, tick: Decimal) -> Fraction:
        """The absolute part of the spread limit in ticks, exactly (0.0025 yuan = 25 ticks
        of 0.0001)."""
        return max(Fraction(self.spread.abs_yuan) / Fraction(tick),
                   Fraction(self.spread.abs_ticks))

    def min_size(self, phase: Phase) -> int:
        return self.size.auction if phase.is_auction else self.size.continuous

    def coverage_required(self, phase: Phase) -> float:
        return {Phase.CONTINUOUS: self.coverage.continuous,
                Phase.OPENING_AUCTION: self.coverage.opening_auction,
                Phase.CLOSING_AUCTION: self.coverage.closing_auction}.get(phase, 0.0)
