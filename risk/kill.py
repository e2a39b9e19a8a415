"""The kill switch: a latched state per scope, its transition table, and who may move it.

States: ACTIVE (nothing latched), REDUCING (only orders and quote sides that reduce a position
leave), HALTED (nothing new leaves; everything live is cancelled). A scope is `all`,
`account:A`, `underlying:U`, `product:P` or `contract:C`; a contract's state is the strongest
latched over any scope that covers it.

Who may do what: risk staff kill anything and reset any department kill (their own, a
trader's, the market-maker protection's); a trader kills and resets only scopes inside the
products they run, and never a kill risk staff latched. Every latch names its actor, role and
reason; the shell journals each move before it answers.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from core.enums import ScopeKind
from core.events import Scope
from core.instruments import Instrument


class KillState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class KillAction(StrEnum):
    HALT = "halt"
    REDUCE = "reduce"
    RESET = "reset"


S, A = KillState, KillAction
TRANSITIONS: dict[tuple[KillState, KillAction], KillState] = {
    (S.ACTIVE, A.HALT): S.HALTED,
    (S.REDUCING, A.HALT): S.HALTED,
    (S.HALTED, A.HALT): S.HALTED,  # killed again: cancels again, the latch keeps the first
    (S.ACTIVE, A.REDUCE): S.REDUCING,
    (S.REDUCING, A.REDUCE): S.REDUCING,
    (S.HALTED, A.REDUCE): S.REDUCING,  # a halt eased to reduce-only
    (S.REDUCING, A.RESET): S.ACTIVE,
    (S.HALTED, A.RESET): S.ACTIVE,
}
STRENGTH = {S.ACTIVE: 0, S.REDUCING: 1, S.HALTED: 2}
RANK = {"mmp": 0, "trader": 1, "risk": 2}  # a higher role's latch takes over a lower one's


class InvalidKillMove(ValueError):
    def __init__(self, scope: str, state: KillState, action: KillAction) -> None:
        super().__init__(f"kill {scope}: cannot {action} from {state}")


@dataclass(frozen=True, slots=True)
class Latch:
    state: KillState
    actor: str
    role: str
    reason: str


def parse_scope(text: str) -> Scope:
    """`all`, `account:A`, `underlying:U`, `product:P` or `contract:C`."""
    if text == "all":
        return Scope(kind=ScopeKind.ALL)
    kind, _, value = text.partition(":")
    if kind not in ("product", "underlying", "contract", "account") or not value:
        raise ValueError(f"scope: {text!r} is not all, account:A, product:P, underlying:U "
                         f"or contract:C")
    return Scope(kind=ScopeKind(kind), value=value)


@dataclass
class KillSwitch:
    instruments: dict[str, Instrument]
    account: str
    traders: dict[str, frozenset[str]] = field(default_factory=dict)
    """trader actor -> the products they run"""
    latches: dict[str, Latch] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # what each scope covers, once: a kill decides in microseconds over thousands of
        # contracts
        self._all = frozenset(i.product for i in self.instruments.values())
        by_underlying: dict[str, set[str]] = {}
        for i in self.instruments.values():
            for key in {i.underlying or i.instrument_id, i.instrument_id}:
                by_underlying.setdefault(key, set()).add(i.product)
        self._by_underlying = {k: frozenset(v) for k, v in by_underlying.items()}

    def products_in(self, scope: Scope) -> set[str]:
        match scope.kind:
            case ScopeKind.ALL:
                return set(self._all)
            case ScopeKind.ACCOUNT:
                return set(self._all) if scope.value == self.account else set()
            case ScopeKind.PRODUCT:
                return {scope.value} & self._all
            case ScopeKind.UNDERLYING:
                return set(self._by_underlying.get(scope.value, ()))
            case _:
                inst = self.instruments.get(scope.value)
                return {inst.product} if inst is not None else set()

    def move(self, scope_text: str, action: KillAction, actor: str, role: str,
             reason: str) -> KillState:
        """Apply one move, or raise PermissionError (who may not) / InvalidKillMove (the
        state machine may not) / ValueError (a scope that names nothing)."""
        scope = parse_scope(scope_text)
        covered = self.products_in(scope)
        if not covered:
            raise ValueError(f"scope: {scope_text!r} covers no contract of account "
                             f"{self.account}")
        latch = self.latches.get(scope_text)
        state = latch.state if latch else KillState.ACTIVE
        new = TRANSITIONS.get((state, action))
        if new is None:
            raise InvalidKillMove(scope_text, state, action)
        if role == "trader":
            own = self.traders.get(actor, frozenset())
            if not covered <= own:
                raise PermissionError(
                    f"{scope_text}: covers {', '.join(sorted(covered - own))}, not among the "
                    f"products {actor} runs ({', '.join(sorted(own)) or 'none'})")
            if action is KillAction.RESET and latch and latch.role == "risk":
                raise PermissionError(f"KillReset: {scope_text} was killed by risk staff "
                                      f"({latch.actor}: {latch.reason}); a trader may not "
                                      f"reset it")
        elif role not in ("risk", "mmp"):
            raise PermissionError(f"{action}: not allowed to the {role} role")
        if new is KillState.ACTIVE:
            del self.latches[scope_text]
        elif latch is not None and new is latch.state and RANK[role] <= RANK[latch.role]:
            pass  # latched again: the first latch's actor and reason stand
        else:
            self.latches[scope_text] = Latch(new, actor, role, reason)
        return new

    def restore(self, scope_text: str, action: KillAction, actor: str, role: str,
                reason: str) -> None:
        """A move the journal holds (replayed at a restart): applied without the checks."""
        if action is KillAction.RESET:
            self.latches.pop(scope_text, None)
            return
        new = KillState.HALTED if action is KillAction.HALT else KillState.REDUCING
        latch = self.latches.get(scope_text)
        if latch is None or latch.state is not new:
            self.latches[scope_text] = Latch(new, actor, role, reason)

    def state(self, inst: Instrument) -> KillState:
        """The strongest state latched over any scope covering the contract."""
        latches = self.latches
        if not latches:
            return KillState.ACTIVE
        best = KillState.ACTIVE
        for key in ("all", f"account:{self.account}", f"product:{inst.product}",
                    f"contract:{inst.instrument_id}", f"underlying:{inst.underlying}",
                    f"underlying:{inst.instrument_id}"):
            latch = latches.get(key)
            if latch is not None and STRENGTH[latch.state] > STRENGTH[best]:
                best = latch.state
        return best

    def product_halted(self, product: str) -> bool:
        """Every contract of the product is HALTED by a latch over all of it (all, the
        account, the product): nothing of it needs pricing."""
        latches = self.latches
        if not latches:
            return False
        return any((latch := latches.get(key)) is not None and latch.state is KillState.HALTED
                   for key in ("all", f"account:{self.account}", f"product:{product}"))

    def view(self) -> dict[str, str]:
        return {scope: str(latch.state) for scope, latch in self.latches.items()} \
            or {"all": "ACTIVE"}


def reducing_side(position: int, bid: tuple[int | None, int], ask: tuple[int | None, int]
                  ) -> tuple[int | None, int, int | None, int] | None:
    """What of a quote may stand under REDUCING: only the side that brings the position
    toward zero, no larger than the position; None when nothing may (flat)."""
    if position > 0 and ask[0] is not None:
        return None, 0, ask[0], min(ask[1], position)
    if position < 0 and bid[0] is not None:
        return bid[0], min(bid[1], -position), None, 0
    return None
