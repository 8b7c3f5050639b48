"""The console's pages, one module per area; each is a thin layer over the services the API uses."""
