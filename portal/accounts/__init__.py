"""Organisations, users, clearances, sign-in with MFA, and the account page."""
