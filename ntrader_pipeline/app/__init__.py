"""The application layer: one function per asset, check and sensor decision of the code location.

Each takes settings and domain objects (a catalog store, a declaration, a fetcher) and returns a typed
outcome (`outcomes.py`): the metadata to show, the data version, a check's verdict. It never imports
Dagster: `defs/` hands these outcomes to Dagster (`defs/outcomes.py`), and a test calls them directly.
"""
