"""Bring your own bars: CSV and Parquet files as a second source beside IB, one FileSource per bar spec.

`reader.FileBarReader.read_sessions` turns a source's files into the bars the IB path delivers (same
BarType, ts_event/ts_init conventions and precisions), session by session. Import from the modules:
this package stays empty so that loading `spec` (e.g. from the universe) pulls in nothing heavy.
"""
