"""The event store: the eventsourcing application, its recorders and the personal-data keys."""
