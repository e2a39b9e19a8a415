"""Call-auction uncrossing, computed by hand."""

from adapters.sim.auction import uncross


def test_single_price_maximises_volume():
    # buys: 10@105, 20@103, 30@101; sells: 15@100, 25@102, 20@104
    # at 102: buys>=102 = 30, sells<=102 = 40 -> 30; at 103: 30 vs 40 -> 30; at 101: 60 vs 15
    # at 104: 10 vs 60 -> 10. Max 30 at 102 and 103, imbalance 10 both -> nearest ref 100: 102
    result = uncross([(105, 10), (103, 20), (101, 30)], [(100, 15), (102, 25), (104, 20)],
                     tie_break="nearest_reference", reference_px_ticks=100)
    assert (result.px_ticks, result.qty) == (102, 30)


def test_minimum_imbalance_breaks_a_volume_tie():
    # buys 10@12, 5@11; sells 10@10, 5@11. at 10: 15 vs 10 -> 10 (imb 5); at 11: 15 vs 15 -> 15;
    # at 12: 10 vs 15 -> 10. Unique max 15 at 11.
    result = uncross([(12, 10), (11, 5)], [(10, 10), (11, 5)],
                     tie_break="nearest_reference", reference_px_ticks=12)
    assert (result.px_ticks, result.qty) == (11, 15)
    # buys 10@12; sells 5@10, 10@13 -> volume 5 at 10 and 12 (imbalance 5 both)
    result = uncross([(12, 10)], [(10, 5), (13, 10)],
                     tie_break="nearest_reference", reference_px_ticks=13)
    assert (result.px_ticks, result.qty) == (12, 5)


def test_equal_volume_and_imbalance_nearest_reference():
    # buys 10@12; sells 10@10: volume 10, imbalance 0 at 10, 11? (no order at 11), 12
    result = uncross([(12, 10)], [(10, 10)], tie_break="nearest_reference", reference_px_ticks=11)
    # candidates are order prices 10 and 12, both 1 from 11: the lower wins
    assert (result.px_ticks, result.qty) == (10, 10)
    result = uncross([(12, 10)], [(10, 10)], tie_break="nearest_reference", reference_px_ticks=20)
    assert result.px_ticks == 12


def test_midpoint_tie_break_rounds_half_up():
    result = uncross([(12, 10)], [(10, 10)], tie_break="midpoint", reference_px_ticks=0)
    assert (result.px_ticks, result.qty) == (11, 10)
    result = uncross([(13, 10)], [(10, 10)], tie_break="midpoint", reference_px_ticks=0)
    assert result.px_ticks == 12  # (10 + 13) / 2 = 11.5 -> 12


def test_empty_side_or_no_cross_gives_nothing():
    assert uncross([], [(10, 5)], tie_break="midpoint", reference_px_ticks=10) is None
    assert uncross([(10, 5)], [], tie_break="midpoint", reference_px_ticks=10) is None
    assert uncross([(9, 5)], [(10, 5)], tie_break="midpoint", reference_px_ticks=10) is None


def test_levels_at_one_price_aggregate():
    result = uncross([(10, 3), (10, 4)], [(10, 5)], tie_break="midpoint", reference_px_ticks=1)
    assert (result.px_ticks, result.qty, result.buy_qty, result.sell_qty) == (10, 5, 7, 5)
