"""The auditor's view of the audit trail: filters, CSV export, chain verification."""
