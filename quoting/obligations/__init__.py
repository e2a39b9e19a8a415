"""The exchanges' market-maker evaluation, computed as they compute it, over a quote timeline
(../shared/TIMELINE.md): pure functions from parsed events to the indicators and grades."""
