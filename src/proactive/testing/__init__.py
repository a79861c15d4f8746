"""Stand-ins shipped for tests and benchmarks: a local Twilio API and an in-memory SMS backend.
Never selected by settings."""
