"""Reference data (villages, entities, the scoring sheet) and the pull feed of its changes."""
