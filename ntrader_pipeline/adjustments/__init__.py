"""Corporate actions: events detected from IB's TRADES and ADJUSTED_LAST daily bars (events), split
ratios (ratios), factors built from the events (factors), their refresh and check (refresh), and applying
them at full precision when a backtest reads bars (apply). See docs/concepts/back-adjustment.md."""
