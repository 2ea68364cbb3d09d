"""The `ntrader` console script: run the embedded gateway, check a connection, inventory the catalog."""
