"""SSE ETFs and listed funds: the market-making indicators (RULES.md 1.4, seed 003 art. 15-18)
over a quote timeline: the spread against the maximum, the average amount per order, continuous
participation and auction participation. Time at a price limit, and the approved exemptions
(a fund >= 10% away from its IOPV; force majeure; a technical failure; the first day after an
upgrade) given as `limit` and `exempt` events, is left out of continuous time. The exchange
sets the thresholds and grades per period: the figures are compared with the pack's agreement
defaults, and no grade is computed (003 art. 15-16 publish no grading table)."""

from decimal import Decimal

from quoting.obligations.engine import QuoteTimeEngine
from quoting.obligations.timeline import Timeline
from quoting.rules import RulePack


class SseEtfEvaluation(QuoteTimeEngine):
    def result(self) -> dict:
        part = self.pack.participation
        products = {}
        for name, product in self.products.items():
            days_out = {}
            shares, ratios = [], []
            quotes, amount = 0, Decimal(0)
            days = sorted({d for c in product.contracts for d in c.days}
                          | set(product.opening) | set(product.closing))
            for day in days:
                cont = valid = ratio_ns = 0
                ratio_sum = 0.0
                for c in product.contracts:
                    totals = c.days.get(day)
                    if totals is None:
                        continue
                    cont += totals.cont_ns
                    valid += totals.valid_ns
                    ratio_ns += totals.ratio_ns
                    ratio_sum += totals.ratio_sum
                    quotes += totals.quotes
                    amount += totals.amount + (totals.amount_ticks * c.record.tick
                                               * c.record.multiplier)
                share = valid / cont if cont else None
                ratio = ratio_sum / ratio_ns if ratio_ns else None
                days_out[day.isoformat()] = {
                    "continuous_participation": share, "spread_ratio": ratio,
                    "opening_auction": product.opening.get(day),
                    "closing_auction": product.closing.get(day)}
                if share is not None:
                    shares.append(share)
                if ratio is not None:
                    ratios.append(ratio)
            continuous = sum(shares) / len(shares) if shares else None
            opening = (sum(product.opening.values()) / len(product.opening)
                       if product.opening else None)
            closing = (sum(product.closing.values()) / len(product.closing)
                       if product.closing else None)
            average = float(amount / quotes) if quotes else None
            products[name] = {
                "days": days_out,
                "continuous_participation": continuous,
                "opening_participation": opening,
                "closing_participation": closing,
                "spread_ratio": sum(ratios) / len(ratios) if ratios else None,
                "average_amount_per_order": average,
                "meets": {
                    "continuous": continuous is not None and continuous >= part.continuous,
                    "opening": opening is not None and opening >= part.opening_auction,
                    "closing": closing is not None and closing >= part.closing_auction,
                    "amount": average is not None
                    and Decimal(str(average)) >= self.pack.size.min_amount_yuan,
                },
            }
        return {"rules": self.pack.name, "products": products}


def evaluate(timeline: Timeline, pack: RulePack) -> dict:
    evaluation = SseEtfEvaluation(timeline, pack)
    evaluation.run()
    return evaluation.result()
