"""The registry: shared-data extracts read, validated, quarantined and loaded; resident reads."""
