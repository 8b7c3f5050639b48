"""The screens' state and view models: plain data and rules, no Flet (tested without a browser).

``check_form`` (the check and re-check being filled in), ``state`` (reference data, the
home list, sign-in, filters), ``records`` (what one record shows: state, receipt,
conflict), ``live`` (what a screen re-reads when sync changes something). The views in
``field_app.ui.views`` are functions of these.
"""
