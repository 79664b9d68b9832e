"""Meetings in calendar apps: the .ics of one meeting and each user's secret calendar feed."""
