"""Accounts of the field app: who signs in, with which role, what each may see; the audit log."""
