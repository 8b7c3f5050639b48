"""Xuncha field app (巡查): offline monthly remediation checks and random-inspection results on a phone.

Layout: ``paths`` (where the app keeps its files), ``store/`` (the local TinyDB store,
crash-safe), ``photos/`` (the evidence photo pipeline), ``sync/`` (talks to the server),
``ui/`` (Flet screens; the only package that imports flet).
"""

VERSION = "0.1.0"  # sent with each pull, so the office sees which phones run an old app
