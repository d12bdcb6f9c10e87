"""Reference model backends for LabelHub: small HTTP servers that speak ``backends/protocol.py``.

``serve`` holds the protocol (routes, JSON, errors); each other module wraps one model and is
started with ``python -m reference_backends.<name>``. See README.md.
"""
