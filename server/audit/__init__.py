"""Audit bundles: export from the ledger and photo folder, verify offline (see ``bundle``)."""
