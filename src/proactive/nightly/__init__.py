"""The nightly run: its stages in order, the run lock, the schedule."""
