"""Documents: clearance-tagged material of a room."""
