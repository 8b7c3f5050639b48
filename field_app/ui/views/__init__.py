"""One module per screen: ``build(ctx, …) -> ft.View``, thin over ``field_app.ui.models.state``."""
