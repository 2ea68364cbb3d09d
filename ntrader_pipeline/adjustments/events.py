"""Corporate actions as events, detected from what IB gives: one row per ex-date with its kind, split
ratio and cash dividend.

Inputs, per session: the TRADES daily bar (`open`, `close`, `volume`; unadjusted) and IB's ADJUSTED_LAST
daily close (`adjusted_close`, from ONE request ending now, so every session shares one anchor). The rule:

1. **Where.** The raw factor F = adjusted_close / close is constant between events except for IB rounding
   both closes to cents. An event's ex-date is a session whose F differs from the previous session's by
   more than that rounding can explain: half a cent on each of the four prices, doubled
   (`rounding_bound`). At low prices the bound is wide, so rounding never becomes a "dividend".
2. **How big.** The step s = F(after) / F(before) is measured between the medians of F over the runs of
   sessions between events (not two single rounded sessions). A split p:q alone gives s = p/q; a cash
   dividend D on the previous unadjusted close C gives s = 1 / (1 - D/C); both on one day multiply.
3. **Which ratio could it be.** The candidate split ratio p:q is the simplest fraction
   (ratios.simplest_ratio: small terms, up to 50:1 and 1:50) equal to s within the rounding bound;
   failing that, the simplest one in [s × (1 - 10 %), s] on the same side of 1 as s: a split with a
   dividend of up to 10 % of the price on the same day.
4. **Split or dividend.** A dividend moves the price (as a split does) but not the number of shares
   traded; a split multiplies the TRADES volume by p/q. The volume ratio v = exp(mean log volume of up
   to 20 sessions from the ex-date minus that of up to 20 before it, never across another event) decides:
   a split when log v is nearer log(p/q) than 0 and farther from 0 than 2.5 standard errors (the
   day-to-day volume noise measured on both sides); an inconclusive change reads as a dividend. So a
   20 % special dividend (s = 1.25, v ≈ 1) stays a dividend and a 5:4 split (s = 1.25, v ≈ 1.25) is a
   split. A step below 1 can only be a (reverse) split — a dividend never
   lowers F — and without volumes a step is a split only when it is below 1 or exactly a split ratio of
   at least 3:2. A dividend's amount is D = (1 - 1/s) × C; whatever a split leaves over is its same-day
   dividend, D = (1 - (p/q) / s) × C.
5. **The overnight gap** (previous close ÷ the ex-date's open in TRADES) should repeat s up to the day's
   move; an event whose gap is off by more than half of |log s| (and 10 %) is kept, with a note.

The factor of a session is then built from the events after it (factors.factors_from_events), so it is
piecewise constant and the newest session's factor is exactly 1.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.adjustments.ratios import SplitRatio, simplest_ratio

TICK = 0.01  # IB rounds stock prices (also ADJUSTED_LAST) to cents
MAX_SAME_DAY_DIVIDEND = 0.10  # a split's same-day dividend, as a share of the price
VOLUME_SESSIONS = 20  # sessions each side of an ex-date whose mean log volume is compared
VOLUME_SIGNIFICANCE = 2.5  # standard errors the volume must move by to call a step a split
MIN_PURE_SPLIT_WITHOUT_VOLUME = 1.5

EVENT_SCHEMA = {
    "ex_date": pl.Date,
    "kind": pl.Utf8,  # split | dividend | split+dividend
    "split_ratio": pl.Utf8,  # "7:1", "1:8"; null for a dividend
    "dividend": pl.Float64,  # cash per unadjusted share (the previous close's currency); null for a split
    "dividend_share": pl.Float64,  # the dividend as a share of the previous close (0.2 = 20 %)
    "factor_step": pl.Float64,  # s = F(after) / F(before)
    "volume_ratio": pl.Float64,  # geometric mean TRADES volume after ÷ before (null without volumes)
    "overnight_gap": pl.Float64,  # previous TRADES close ÷ the ex-date's TRADES open
    "previous_close": pl.Float64,  # the unadjusted TRADES close before the ex-date
    "note": pl.Utf8,
}


@dataclass(frozen=True, slots=True)
class CorporateEvent:
    ex_date: dt.date | None  # None while a step is classified, before its session is known
    kind: str  # split | dividend | split+dividend
    split: SplitRatio | None
    dividend_share: float  # D / C; 0 for a split alone

    @property
    def split_factor(self) -> float:
        return 1 / self.split.value if self.split else 1.0


def rounding_bound(closes: list[float], adjusted: list[float], i: int) -> float:
    """How far F(i) / F(i-1) can stray from 1 through cent rounding alone (doubled, for safety)."""
    prices = (closes[i], closes[i - 1], adjusted[i], adjusted[i - 1])
    return 2 * sum(TICK / 2 / p for p in prices)


def _event_rows(daily: pl.DataFrame) -> list[int]:
    closes, adjusted = daily["close"].to_list(), daily["adjusted_close"].to_list()
    rows = []
    for i in range(1, daily.height):
        step = (adjusted[i] / closes[i]) / (adjusted[i - 1] / closes[i - 1])
        if abs(math.log(step)) > rounding_bound(closes, adjusted, i):
            rows.append(i)
    return rows


def _median(values: list[float]) -> float | None:
    clean = sorted(v for v in values if v is not None and v > 0)
    if not clean:
        return None
    mid = len(clean) // 2
    return clean[mid] if len(clean) % 2 else (clean[mid - 1] + clean[mid]) / 2


def _segment_step(factors: list[float], bounds: list[int], k: int) -> float:
    """s at event k, from the medians of F over the runs of sessions on each side."""
    start, ex, end = bounds[k], bounds[k + 1], bounds[k + 2]
    return _median(factors[ex:end]) / _median(factors[start:ex])  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class VolumeChange:
    """Geometric mean TRADES volume from the ex-date ÷ before it, and the standard error of its log."""

    ratio: float
    log_error: float


def volume_change(before: list[float], after: list[float]) -> VolumeChange | None:
    """The change between two runs of daily volumes (None without at least two positive volumes each)."""
    a = [math.log(v) for v in before if v is not None and v > 0]
    b = [math.log(v) for v in after if v is not None and v > 0]
    if len(a) < 2 or len(b) < 2:
        return None
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    pooled = sum((x - mean_a) ** 2 for x in a) + sum((x - mean_b) ** 2 for x in b)
    sigma = math.sqrt(pooled / (len(a) + len(b) - 2))
    return VolumeChange(math.exp(mean_b - mean_a), sigma * math.sqrt(1 / len(a) + 1 / len(b)))


def _volume_change(volumes: list[float] | None, bounds: list[int], k: int) -> VolumeChange | None:
    """Around event k, within the runs of sessions to the neighbouring events (never across another)."""
    if volumes is None:
        return None
    start, ex, end = bounds[k], bounds[k + 1], bounds[k + 2]
    before = volumes[max(start, ex - VOLUME_SESSIONS) : ex]
    return volume_change(before, volumes[ex : min(end, ex + VOLUME_SESSIONS)])


def _is_split(step: float, ratio: SplitRatio | None, exact: bool, volume: VolumeChange | None) -> bool:
    """A step is a split when a split ratio explains it and the volume moved to that ratio: log v nearer
    log(p/q) than 0, and farther from 0 than VOLUME_SIGNIFICANCE standard errors (an inconclusive volume
    change reads as a dividend). A step below 1 always is (a dividend never lowers the factor)."""
    if ratio is None:
        return False
    if step < 1:
        return True
    if volume is None:
        return exact and step >= MIN_PURE_SPLIT_WITHOUT_VOLUME
    moved = abs(math.log(volume.ratio))
    return (
        abs(math.log(volume.ratio / ratio.value)) < moved and moved > VOLUME_SIGNIFICANCE * volume.log_error
    )


def classify_step(step: float, bound: float, volume: VolumeChange | None) -> CorporateEvent | str:
    """The event a factor step s is (ex_date left unset), or the reason it cannot be read as one."""
    exact = simplest_ratio(step * math.exp(-bound), step * math.exp(bound), step)
    low = step * (1 - MAX_SAME_DAY_DIVIDEND)
    ratio = exact or simplest_ratio(max(low, 1.0) if step > 1 else low, step * math.exp(bound), step)
    if not _is_split(step, ratio, exact is not None, volume):
        if step < 1:
            return f"a factor step of {step:.5f} (below 1) that no split ratio up to 50:1 explains"
        return CorporateEvent(None, "dividend", None, 1 - 1 / step)
    assert ratio is not None
    share = 1 - ratio.value / step
    if abs(share) <= bound:
        return CorporateEvent(None, "split", ratio, 0.0)
    return CorporateEvent(None, "split+dividend", ratio, share)


def _gap_note(step: float, gap: float | None) -> str | None:
    if gap is None or gap <= 0:
        return None
    off = abs(math.log(gap / step))
    if off > max(0.5 * abs(math.log(step)), math.log(1.1)):
        return f"overnight gap {gap:.4f} does not repeat the factor step {step:.4f}"
    return None


def detect_events(daily: pl.DataFrame) -> pl.DataFrame:
    """EVENT_SCHEMA rows from `daily` (columns date, open, close, volume, adjusted_close; one row per
    session, in date order; open/volume may be null)."""
    daily = daily.sort("date")
    closes, adjusted = daily["close"].to_list(), daily["adjusted_close"].to_list()
    factors = [a / c for a, c in zip(adjusted, closes, strict=True)]
    volumes = daily["volume"].cast(pl.Float64).to_list() if "volume" in daily.columns else None
    if volumes is not None and not any(v and v > 0 for v in volumes):
        volumes = None
    opens = daily["open"].to_list() if "open" in daily.columns else [None] * daily.height
    rows = _event_rows(daily)
    bounds = [0, *rows, daily.height]
    out = []
    for k, i in enumerate(rows):
        step = _segment_step(factors, bounds, k)
        volume = _volume_change(volumes, bounds, k)
        event = classify_step(step, rounding_bound(closes, adjusted, i), volume)
        evidence = Evidence(
            step, volume.ratio if volume else None, closes[i - 1] / opens[i] if opens[i] else None
        )
        out.append(_row(daily["date"][i], event, evidence, closes[i - 1]))
    return pl.DataFrame(out, schema=EVENT_SCHEMA, orient="row")


@dataclass(frozen=True, slots=True)
class Evidence:
    factor_step: float
    volume_ratio: float | None
    overnight_gap: float | None


def _row(date: dt.date, event: CorporateEvent | str, evidence: Evidence, previous_close: float) -> tuple:
    """An EVENT_SCHEMA row; `event` is the reason text of an unexplained step."""
    step, gap = evidence.factor_step, evidence.overnight_gap
    if isinstance(event, str):
        return (
            date,
            "unexplained",
            None,
            None,
            None,
            step,
            evidence.volume_ratio,
            gap,
            previous_close,
            event,
        )
    share = event.dividend_share if event.kind != "split" else None
    return (
        date,
        event.kind,
        str(event.split) if event.split else None,
        share * previous_close if share is not None else None,
        share,
        step,
        evidence.volume_ratio,
        gap,
        previous_close,
        _gap_note(step, gap),
    )


def events_of(frame: pl.DataFrame) -> list[CorporateEvent]:
    """The EVENT_SCHEMA rows as events (an "unexplained" step is left out: it adjusts nothing)."""
    events = []
    for row in frame.iter_rows(named=True):
        if row["kind"] == "unexplained":
            continue
        split = SplitRatio.parse(row["split_ratio"]) if row["split_ratio"] else None
        events.append(CorporateEvent(row["ex_date"], row["kind"], split, row["dividend_share"] or 0.0))
    return events


def describe_event(row: dict) -> str:
    """`2014-06-09 split 7:1`, `2024-03-15 dividend 0.4512 (0.38 %)`, `… split+dividend 3:2 + 0.2500`."""
    date = row["ex_date"].isoformat()
    if row["kind"] == "split":
        return f"{date} split {row['split_ratio']}"
    if row["kind"] == "dividend":
        return f"{date} dividend {row['dividend']:.4f} ({row['dividend_share']:.2%})"
    if row["kind"] == "split+dividend":
        dividend = f"{row['dividend']:.4f} ({row['dividend_share']:.2%})"
        return f"{date} split {row['split_ratio']} + dividend {dividend}"
    return f"{date} {row['kind']}: {row['note']}"
