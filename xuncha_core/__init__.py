"""Rules that the field app and the server share.

Everything here is pure: no UI, database or HTTP code is imported, so the same
module decides a question on the phone, on the server and in an auditor's
offline check.
"""
