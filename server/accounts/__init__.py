"""Accounts and devices: users, enrollment, sign-in (throttled), and who may read what."""
