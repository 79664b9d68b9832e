"""Subcommittees (分科会), their memberships and room pages."""
