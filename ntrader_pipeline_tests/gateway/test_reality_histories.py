"""Real corporate-action histories through the real path: Nautilus' IB client → the embedded gateway
(TRADES daily bars, then ONE ADJUSTED_LAST request ending now) → events and factors. Each history comes
out as exactly its events, and adjusted daily and minute bars across each event show no jump."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from nautilus_trader.model.data import Bar

from ntrader_pipeline.adjustments.apply import adjust_bars
from ntrader_pipeline.adjustments.events import rounding_bound
from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.adjustments.refresh import refresh_adjustment_factors
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway.reality_bars import previous_unadjusted_close
from ntrader_pipeline.gateway.reality_histories import history
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import session_for, sessions_between
from ntrader_pipeline.markets.universe import InstrumentSpec

DAILY = BarSpec.parse("1-DAY-LAST")
MINUTE = BarSpec.parse("1-MINUTE-LAST")
D = dt.date

# symbol, exchange, window, the events it must yield: (ex-date, kind, split ratio, dividend or None)
CASES = [
    (
        "AAPL", "NASDAQ", ("2014-04-01", "2014-09-30"),
        [(D(2014, 5, 8), "dividend", None, 3.29), (D(2014, 6, 9), "split", "7:1", None),
         (D(2014, 8, 7), "dividend", None, 0.47)],
    ),
    (
        "AAPL", "NASDAQ", ("2020-07-01", "2020-12-15"),
        [(D(2020, 8, 7), "dividend", None, 0.82), (D(2020, 8, 31), "split", "4:1", None),
         (D(2020, 11, 6), "dividend", None, 0.205)],
    ),
    # GE's 0.01 dividend of 2021-06-28 is 0.07 % of a $14 close: below what cent-rounded closes resolve
    # (asserted below), so the window starts after it
    (
        "GE", "NYSE", ("2021-07-01", "2021-10-29"),
        [(D(2021, 8, 2), "split", "1:8", None), (D(2021, 9, 27), "dividend", None, 0.08)],
    ),
    ("CMG", "NYSE", ("2024-05-15", "2024-08-15"), [(D(2024, 6, 26), "split", "50:1", None)]),
    ("MSFT", "NASDAQ", ("2024-04-01", "2024-06-28"), [(D(2024, 5, 15), "split+dividend", "3:2", 0.75)]),
    ("NVDA", "NASDAQ", ("2024-03-01", "2024-05-15"), [(D(2024, 4, 10), "dividend", None, None)]),
]  # fmt: skip


def _store_daily(store: CatalogStore, bars: list[Bar]) -> None:
    for bar in bars:
        store.write_session_bars(
            bar.bar_type, session_for(dt.datetime.fromtimestamp(bar.ts_event / 1e9, dt.UTC).date()), [bar]
        )


def _trades(
    connection: IBConnection, spec: InstrumentSpec, spec_bar: BarSpec, first: str, last: str
) -> list[Bar]:
    sessions = sessions_between(first, last)
    end = sessions[-1].close.astimezone(dt.UTC).replace(tzinfo=None)
    bars, errors = connection.fetch_bars_as_asked(spec, spec_bar, end, f"{len(sessions)} D")
    assert bars, errors
    return bars


def _overnight_jumps(bars: list[Bar], ex_date: dt.date) -> tuple[float, float]:
    """(|log| of the close-before → first-open-on-the-ex-date move, the largest high/low range of a bar
    session in the bars, as |log|): no jump when the first is within the second."""
    by_session: dict[dt.date, list[Bar]] = {}
    for bar in bars:
        by_session.setdefault(_session_of(bar), []).append(bar)
    before = max(d for d in by_session if d < ex_date)
    last_close = by_session[before][-1].close.as_double()
    first_open = by_session[ex_date][0].open.as_double()
    ranges = [
        math.log(max(b.high.as_double() for b in day) / min(b.low.as_double() for b in day))
        for day in by_session.values()
    ]
    return abs(math.log(first_open / last_close)), max(ranges)


def _session_of(bar: Bar) -> dt.date:
    moment = dt.datetime.fromtimestamp(bar.ts_event / 1e9, dt.UTC)
    return moment.date()  # daily: 00:00 UTC of the session; minute bars in RTH: the same UTC date


@pytest.mark.parametrize(("symbol", "exchange", "window", "expected"), CASES, ids=lambda c: str(c)[:24])
def test_a_real_history_yields_exactly_its_events_and_no_jump(
    ib_gateway, ib_settings, tmp_path, symbol, exchange, window, expected
):
    reality = history(symbol)
    ib_gateway.realities.set(symbol, reality)
    spec = InstrumentSpec(symbol=symbol, primary_exchange=exchange)
    twin = InstrumentSpec(symbol=symbol, primary_exchange=exchange, adjusted=True)
    store = CatalogStore(tmp_path / "catalog")
    with IBConnection(ib_settings) as connection:
        _store_daily(store, _trades(connection, spec, DAILY, *window))
        factors, events = refresh_adjustment_factors(
            store, spec.instrument_id, lambda duration: connection.fetch_adjusted_bars(twin, DAILY, duration)
        )
        found = [(r["ex_date"], r["kind"], r["split_ratio"], r["dividend"]) for r in events.to_dicts()]
        assert [f[:3] for f in found] == [e[:3] for e in expected]
        for (_, _, _, dividend), (_, _, _, paid) in zip(found, expected, strict=True):
            if paid is not None:
                assert dividend == pytest.approx(paid, rel=0.02)  # re-measured from cent-rounded closes
        if symbol == "NVDA":  # the special dividend: 20 % of the cum-dividend close
            assert events["dividend_share"][0] == pytest.approx(0.20, abs=5e-4)
        assert factors["factor"][-1] == 1.0
        for ex_date, kind, _, _ in expected:
            adjustment = Adjustment.SPLITS if kind == "split" else Adjustment.SPLITS_AND_DIVIDENDS
            daily = adjust_bars(
                store.read_bars(DAILY.bar_type(spec.instrument_id), sessions_between(*window)),
                factors,
                adjustment,
            )
            jump, normal = _overnight_jumps(daily, ex_date)
            assert jump < normal, f"daily {ex_date}: overnight {jump:.4f} beyond the day's range {normal:.4f}"
            two_days = [s for s in sessions_between(*window) if s.date <= ex_date][-2:]
            minutes = _trades(connection, spec, MINUTE, two_days[0].key, two_days[1].key)
            jump, normal = _overnight_jumps(adjust_bars(minutes, factors, adjustment), ex_date)
            assert jump < normal, (
                f"minute {ex_date}: overnight {jump:.4f} beyond the day's range {normal:.4f}"
            )
            if kind != "dividend" or symbol == "NVDA":  # unadjusted, the event is a jump the check sees
                assert _overnight_jumps(minutes, ex_date)[0] > normal


def test_ge_s_cent_dividend_is_below_what_cent_rounded_closes_resolve():
    """Why the GE window starts after 2021-06-28: a 0.01 dividend on a ~$14 (unadjusted) close moves the
    factor by less than the rounding bound of those closes."""
    reality = history("GE")
    cent = next(d for d in reality.dividends if d.amount == 0.01)
    assert cent.ex_date == D(2021, 6, 28)
    close = previous_unadjusted_close("GE", cent.ex_date, reality)  # the TRADES close before it
    assert 5 < close < 40
    assert cent.amount / close < rounding_bound([close, close], [close * 8, close * 8], 1)
