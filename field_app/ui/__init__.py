"""The Flet screens. Only this package imports flet; ``state``, ``check_form`` and ``i18n`` do not,
so their logic is tested without a browser."""
