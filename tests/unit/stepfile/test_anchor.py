"""The simulator's anchor: simulated time runs at `speed` against the wall clock, and passes
each stretch with every market closed in no wall time at all."""

from adapters.stepfile.server import Anchor

S = 1_000_000_000


def test_simulated_time_skips_the_closed_stretches_and_maps_back():
    anchor = Anchor(day="2026-11-23", seed=7, speed=100.0, wall0_ns=0, sim0_ns=1_000 * S,
                    skips=((1_100 * S, 5_000 * S), (5_200 * S, 6_000 * S)))
    assert anchor.sim_ns(0) == 1_000 * S
    assert anchor.sim_ns(S // 2) == 1_050 * S
    assert anchor.sim_ns(S) == 5_000 * S          # 100 s run, then the first skip
    assert anchor.sim_ns(2 * S) == 5_100 * S
    assert anchor.sim_ns(3 * S) == 6_000 * S      # the second skip
    assert anchor.sim_ns(4 * S) == 6_100 * S
    for wall in (0, S // 3, S, 5 * S // 2, 4 * S):
        assert anchor.wall_ns(anchor.sim_ns(wall)) == wall
        assert anchor.running_ns(anchor.sim_ns(wall)) == wall * 100
    assert anchor.wall_ns(3_000 * S) == S         # inside a skip: its start


def test_an_anchor_without_skips_is_a_straight_line():
    anchor = Anchor(day="2026-11-23", seed=7, speed=200.0, wall0_ns=5 * S, sim0_ns=10 * S)
    assert anchor.sim_ns(6 * S) == 210 * S and anchor.wall_ns(210 * S) == 6 * S
