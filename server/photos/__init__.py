"""Evidence photos: checks, the content-addressed store, resumable uploads and their upkeep."""
