"""Dagster APIs the code location uses on purpose although Dagster marks them beta or preview: their
warnings are filtered here, by category and message, so `dagster asset materialize`, `dg launch` and every
run worker do not print them once per step process. Any other Beta/Preview/Supersession warning still
shows. The list is documented in docs/reference/assets-jobs-schedules-sensors.md."""

import re
import warnings

import dagster as dg

# (category, start of the message, why the code location uses it)
CHOSEN_WARNINGS: tuple[tuple[type[Warning], str, str], ...] = (
    (
        dg.BetaWarning,
        "Class `MultiToSingleDimensionPartitionMapping`",
        "per-instrument assets (data versions, backtests) depend on month × instrument bars",
    ),
    (
        dg.BetaWarning,
        "Parameter `backfill_policy` of function `asset`",
        "single-run backfills: a range of months × instruments is one run over one IB connection",
    ),
    (
        dg.PreviewWarning,
        "Specifying a partitions_def on an AssetCheckSpec",
        "the blocking bar_quality check is partitioned like the bars it checks",
    ),
)


def filter_chosen_warnings() -> None:
    for category, message, _why in CHOSEN_WARNINGS:
        warnings.filterwarnings("ignore", message=re.escape(message), category=category)
