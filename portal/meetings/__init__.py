"""Meetings of a room: schedule, agenda, attendance, findings and action items."""
