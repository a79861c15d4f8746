"""proactive: proactive community services for district governments."""

__version__ = "0.1.0"
