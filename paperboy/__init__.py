"""The Paperboy application: the composition root (`paperboy.app`), the CLI, the demo and the preview.

The only package that knows every part: the core (`bot`), the chat adapters (`adapters`) and the
storage (`storage`) never import it, nor each other beyond what `tests/unit/test_boundaries.py` allows.
"""
