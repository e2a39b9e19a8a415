"""The kill switch's transition table and who may move it."""

import pytest

from risk.kill import InvalidKillMove, KillAction, KillState, KillSwitch, reducing_side
from tests.unit.risk.kit import INSTRUMENTS

BY_ID = {i.instrument_id: i for i in INSTRUMENTS}


def switch() -> KillSwitch:
    return KillSwitch(BY_ID, "MM01", {"tina": frozenset({"510050"}),
                                      "tom": frozenset({"SR", "830799"})})


def test_a_halt_covers_the_scope_and_nothing_else():
    ks = switch()
    ks.move("product:510050", KillAction.HALT, "rita", "risk", "test")
    assert ks.state(BY_ID["C1"]) is KillState.HALTED
    assert ks.state(BY_ID["SR701"]) is KillState.ACTIVE


def test_an_underlying_kill_reaches_its_options_and_the_underlying():
    ks = switch()
    ks.move("underlying:510050", KillAction.HALT, "rita", "risk", "test")
    assert ks.state(BY_ID["P1"]) is KillState.HALTED
    assert ks.state(BY_ID["510050"]) is KillState.HALTED
    assert ks.state(BY_ID["830799"]) is KillState.ACTIVE


def test_the_account_scope_covers_the_account_only():
    ks = switch()
    ks.move("account:MM01", KillAction.HALT, "rita", "risk", "test")
    assert all(ks.state(i) is KillState.HALTED for i in INSTRUMENTS)
    with pytest.raises(ValueError, match="covers no contract"):
        switch().move("account:PROP1", KillAction.HALT, "rita", "risk", "test")


def test_the_strongest_latch_wins():
    ks = switch()
    ks.move("all", KillAction.REDUCE, "rita", "risk", "test")
    ks.move("contract:C1", KillAction.HALT, "rita", "risk", "test")
    assert ks.state(BY_ID["C1"]) is KillState.HALTED
    assert ks.state(BY_ID["C2"]) is KillState.REDUCING


def test_reset_of_an_active_scope_is_an_invalid_move():
    with pytest.raises(InvalidKillMove, match="cannot reset from ACTIVE"):
        switch().move("product:SR", KillAction.RESET, "rita", "risk", "test")


def test_halt_eases_to_reducing_and_back():
    ks = switch()
    assert ks.move("product:SR", KillAction.HALT, "rita", "risk", "x") is KillState.HALTED
    assert ks.move("product:SR", KillAction.REDUCE, "rita", "risk", "x") is KillState.REDUCING
    assert ks.move("product:SR", KillAction.RESET, "rita", "risk", "x") is KillState.ACTIVE
    assert ks.view() == {"all": "ACTIVE"}


def test_a_trader_kills_and_resets_only_their_own_products():
    ks = switch()
    assert ks.move("product:510050", KillAction.HALT, "tina", "trader", "mine")
    with pytest.raises(PermissionError, match="not among the products tina runs"):
        ks.move("product:SR", KillAction.HALT, "tina", "trader", "not mine")
    with pytest.raises(PermissionError, match="830799"):
        ks.move("all", KillAction.HALT, "tina", "trader", "everything")
    assert ks.move("product:510050", KillAction.RESET, "tina", "trader", "done") \
        is KillState.ACTIVE


def test_a_trader_may_not_reset_a_risk_kill_but_risk_may_reset_a_traders():
    ks = switch()
    ks.move("product:510050", KillAction.HALT, "rita", "risk", "limits")
    with pytest.raises(PermissionError, match="killed by risk staff"):
        ks.move("product:510050", KillAction.RESET, "tina", "trader", "mine")
    ks.move("product:SR", KillAction.HALT, "tom", "trader", "mine")
    assert ks.move("product:SR", KillAction.RESET, "rita", "risk", "ok") is KillState.ACTIVE


def test_market_maker_protection_latches_may_be_reset_by_the_products_trader():
    ks = switch()
    ks.move("product:SR", KillAction.HALT, "mmp", "mmp", "80 fills within 1 s")
    assert ks.latches["product:SR"].actor == "mmp"
    assert ks.move("product:SR", KillAction.RESET, "tom", "trader", "looked") \
        is KillState.ACTIVE


def test_ops_and_auditors_cannot_move_the_switch():
    with pytest.raises(PermissionError, match="auditor"):
        switch().move("all", KillAction.HALT, "amy", "auditor", "x")


def test_a_relatch_keeps_the_first_actor_and_reason():
    ks = switch()
    ks.move("all", KillAction.HALT, "rita", "risk", "first")
    ks.move("all", KillAction.HALT, "rob", "risk", "second")
    assert (ks.latches["all"].actor, ks.latches["all"].reason) == ("rita", "first")


def test_restore_replays_moves_without_checks():
    ks = switch()
    ks.restore("product:SR", KillAction.HALT, "tom", "trader", "x")
    ks.restore("all", KillAction.REDUCE, "rita", "risk", "y")
    ks.restore("product:SR", KillAction.RESET, "rita", "risk", "z")
    assert ks.view() == {"all": "REDUCING"}


@pytest.mark.parametrize(("position", "expected"), [
    (30, (None, 0, 1010, 10)), (5, (None, 0, 1010, 5)), (-7, (990, 7, None, 0)), (0, None)])
def test_reducing_keeps_only_the_side_toward_flat(position, expected):
    assert reducing_side(position, (990, 10), (1010, 10)) == expected


def test_a_risk_halt_takes_over_a_protection_latch():
    ks = switch()
    ks.move("product:510050", KillAction.HALT, "mmp", "mmp", "fills")
    ks.move("product:510050", KillAction.HALT, "rita", "risk", "limits")
    assert ks.latches["product:510050"].role == "risk"
    with pytest.raises(PermissionError, match="killed by risk staff"):
        ks.move("product:510050", KillAction.RESET, "tina", "trader", "mine")
