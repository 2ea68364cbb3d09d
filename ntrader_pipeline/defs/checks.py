"""The blocking `bar_quality` check of the bars assets, evaluated in the asset's own step over every
stored session of the run's months: a failed session never reaches a backtest. Its verdict and metadata
(the flagged sessions and why: missing bars, IB's "no data", closed, not listed yet) come from
`app/bar_quality.py`."""

BAR_QUALITY_CHECK = "bar_quality"
