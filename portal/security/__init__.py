"""The security core every feature uses. policy, crypto and audit import nothing from Flask."""
