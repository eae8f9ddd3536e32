"""inferwall: what it costs to serve a large language model on given hardware, and why."""

__version__ = "0.1.0"
