"""The exchange simulator: order books, call auctions, continuous matching, price limits,
circuit breakers, halts, RFQs, mass cancel, drop copy; simulated clients on a seeded path."""
