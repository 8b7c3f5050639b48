"""Thin HTTP routers, one per resource. Each checks the caller's role and calls a domain module."""
