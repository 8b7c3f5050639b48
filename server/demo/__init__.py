"""A demo town with records and photos, for a fresh installation."""
