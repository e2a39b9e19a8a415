"""Market-maker protection: fills of our quotes in a product within a time window, by count,
volume, delta or vega, beyond a set level, trip the product: the shell pulls every quote in it
and latches the product (a kill) until someone resets it, as exchanges' mass-quote protection
does. Pure: fills come in with their time."""

import collections
from dataclasses import dataclass, field

from risk.limits import Protection

NS_PER_S = 1_000_000_000


@dataclass
class _Window:
    fills: collections.deque = field(default_factory=collections.deque)
    count: int = 0
    volume: int = 0
    delta: float = 0.0
    vega: float = 0.0


@dataclass
class MarketMakerProtection:
    config: dict[str, Protection]
    _windows: dict[str, _Window] = field(default_factory=dict)
    tripped: dict[str, str] = field(default_factory=dict)  # product -> why

    def on_fill(self, product: str, ts_ns: int, qty: int, delta: float, vega: float
                ) -> str | None:
        """Count one fill of our quote (signed delta and vega of what we traded); returns
        why the product trips, once, or None."""
        level = self.config.get(product)
        if level is None or product in self.tripped:
            return None
        w = self._windows.setdefault(product, _Window())
        w.fills.append((ts_ns, qty, delta, vega))
        w.count += 1
        w.volume += qty
        w.delta += delta
        w.vega += vega
        horizon = ts_ns - int(level.window_s * NS_PER_S)
        while w.fills and w.fills[0][0] <= horizon:
            _, q, d, v = w.fills.popleft()
            w.count -= 1
            w.volume -= q
            w.delta -= d
            w.vega -= v
        why = None
        span = f"within {level.window_s:g} s"
        if level.max_fills is not None and w.count > level.max_fills:
            why = f"{w.count} fills {span}, over {level.max_fills}"
        elif level.max_volume is not None and w.volume > level.max_volume:
            why = f"{w.volume} lots filled {span}, over {level.max_volume}"
        elif level.max_delta is not None and abs(w.delta) > level.max_delta:
            why = f"delta {w.delta:+.0f} filled {span}, over {level.max_delta:g}"
        elif level.max_vega is not None and abs(w.vega) > level.max_vega:
            why = f"vega {w.vega:+.0f} filled {span}, over {level.max_vega:g}"
        if why is not None:
            self.tripped[product] = why
            self._windows.pop(product, None)
        return why

    def reset(self, product: str) -> None:
        self.tripped.pop(product, None)
        self._windows.pop(product, None)
