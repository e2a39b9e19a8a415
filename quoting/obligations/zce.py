"""ZCE futures and options: the exchange's market-maker evaluation (RULES.md 1.3, seed 001
ch. 4), over a quote timeline.

Futures: per designated contract and month, the valid continuous-quote time ratio (valid time
over continuous time; the opening auction owes nothing, a contract at a price limit and
approved exemptions, such as the product's main contract at a limit, are left out) against the
agreement's threshold. Options: the same continuous time ratio, and the response ratio: an RFQ
answer counts when it entered within the response time, met size and spread at entry and in
every replacement of its chain, and rested the minimum time summed over the chain (cancel time,
or the close, less entry time) unless filled.
"""

from fractions import Fraction

from quoting.obligations.engine import ProductState, QuoteTimeEngine
from quoting.obligations.timeline import Timeline
from quoting.rules import RulePack


class ZceEvaluation(QuoteTimeEngine):
    def result(self) -> dict:
        threshold = Fraction(str(self.pack.participation.continuous))
        products = {}
        for name, product in self.products.items():
            contracts: dict[str, dict] = {}
            months: dict[str, dict] = {}
            for c in product.contracts:
                per_month: dict[str, list[int]] = {}
                for day, totals in c.days.items():
                    acc = per_month.setdefault(f"{day:%Y-%m}", [0, 0])
                    acc[0] += totals.valid_ns
                    acc[1] += totals.cont_ns
                out = {}
                for month, (valid, cont) in sorted(per_month.items()):
                    if not cont:
                        continue
                    ratio = Fraction(valid, cont)
                    out[month] = {"valid_time_ratio": float(ratio),
                                  "continuous_s": cont / 1e9, "meets": ratio >= threshold}
                    summary = months.setdefault(month, {"contracts": 0, "meeting": 0})
                    summary["contracts"] += 1
                    summary["meeting"] += ratio >= threshold
                contracts[c.record.contract] = {"months": out}
            entry: dict[str, object] = {"contracts": contracts,
                                        "months": dict(sorted(months.items())),
                                        "threshold": float(threshold)}
            if self.pack.name == "zce-options":
                entry.update(self._responses(product))
            products[name] = entry
        return {"rules": self.pack.name, "products": products}

    def _responses(self, product: ProductState) -> dict:
        by_month: dict[str, list[int]] = {}
        for rfq in self.rfqs.values():
            if self.contracts[rfq.contract].product is not product:
                continue
            month = f"{self.timeline.local_date(rfq.requested_ns):%Y-%m}"
            acc = by_month.setdefault(month, [0, 0])
            acc[0] += 1
            acc[1] += self.rfq_valid(rfq, whole_chain=True)
        months = {m: {"requests": n, "valid": v, "response_ratio": v / n}
                  for m, (n, v) in sorted(by_month.items())}
        requests = sum(n for n, _ in by_month.values())
        valid = sum(v for _, v in by_month.values())
        return {"rfq_months": months,
                "response_ratio": valid / requests if requests else None,
                "response_threshold": self.pack.rfq.rate}


def evaluate(timeline: Timeline, pack: RulePack) -> dict:
    evaluation = ZceEvaluation(timeline, pack)
    evaluation.run()
    return evaluation.result()
