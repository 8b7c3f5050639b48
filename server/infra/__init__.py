"""The small infrastructure every feature stands on: settings, the database, the one writer, the one clock, errors as HTTP, request guards."""
