"""Tabletop exercises (机上演習) of risk-review rooms."""
