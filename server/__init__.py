"""Xuncha server: the town's enforcement record.

Layout: ``settings`` (one settings object from the environment), ``db`` (the one
module that builds the SQL engine), ``tables`` and ``migrations`` (schema),
domain modules that take a connection and keyword-only arguments (``accounts``,
``intake``, ``photo_checks``, ``photo_store``, ``ledger``, …), ``routers/`` (thin HTTP), ``app``
(includes routers), ``cli`` (``xuncha-server``).
"""
