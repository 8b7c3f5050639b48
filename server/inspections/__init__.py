"""Random inspections (双随机、一公开) on the server: directories, plans, draws, publication.

The rules live in ``xuncha_core.inspections``; this package stores, serves and shows them.
"""
