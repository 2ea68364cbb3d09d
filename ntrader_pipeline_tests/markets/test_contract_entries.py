"""Universe entries per IB contract type: ids, calendars, and a bad entry per type naming the field."""

import pytest

from ntrader_pipeline.markets.universe import BarSpec, UniverseError, load_universe
from ntrader_pipeline.settings import REPO_ROOT

MINUTE = BarSpec.parse("1-MINUTE-LAST")
DAY = BarSpec.parse("1-DAY-LAST")


def test_multi_asset_example_ids_calendars_and_bar_types():
    universe = load_universe(REPO_ROOT / "data" / "universe.multi_asset.yaml")
    assert universe.instrument_ids == ["SPY.ARCA", "SPY-ADJ.ARCA", "EUR/USD.IDEALPRO", "ESH4.CME"]
    spy, spy_adj, eurusd, es = universe.instruments
    assert [i.calendar.name for i in universe.instruments] == ["NYSE", "NYSE", "FX24x5", "CME"]
    assert eurusd.bar_type(MINUTE) == "EUR/USD.IDEALPRO-1-MINUTE-MID-EXTERNAL"
    assert es.bar_type(DAY) == "ESH4.CME-1-DAY-LAST-EXTERNAL"
    assert (
        spy_adj.bar_type(DAY) == "SPY-ADJ.ARCA-1-DAY-LAST-EXTERNAL" and spy_adj.ib_instrument_id == "SPY.ARCA"
    )
    assert not universe.provides(spy_adj, MINUTE) and universe.provides(spy_adj, DAY)
    assert spy.use_rth and not eurusd.use_rth and not es.use_rth


def _load(tmp_path, entry: str):
    path = tmp_path / "universe.yaml"
    path.write_text(f"bar_specs: [1-MINUTE-LAST]\ninstruments:\n  - {entry}\n")
    return load_universe(path)


def test_contfut_id_and_month_codes(tmp_path):
    universe = _load(tmp_path, "{symbol: ES, sec_type: CONTFUT, exchange: CME}")
    assert universe.instrument_ids == ["ES.CME"]
    dec = _load(
        tmp_path, '{symbol: NQ, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: "20251219"}'
    )
    assert dec.instrument_ids == ["NQZ5.CME"]


@pytest.mark.parametrize(
    ("entry", "field", "says"),
    [
        ("{symbol: EUR, sec_type: CASH, exchange: SMART}", "(entry)", "IDEALPRO"),
        ("{symbol: EURO, sec_type: CASH, exchange: IDEALPRO}", "(entry)", "3-letter base currency"),
        ("{symbol: EUR, sec_type: CASH, exchange: IDEALPRO, primary_exchange: ARCA}", "(entry)",
         "primary_exchange"),
        ("{symbol: ES, sec_type: FUT, exchange: CME}", "(entry)", "last_trade_date_or_contract_month"),
        ('{symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: "March"}',
         "last_trade_date_or_contract_month", "pattern"),
        ('{symbol: ES, sec_type: FUT, exchange: GLOBEX, last_trade_date_or_contract_month: "202403"}',
         "(entry)", "futures exchange"),
        ('{symbol: ES, sec_type: CONTFUT, exchange: CME, last_trade_date_or_contract_month: "202403"}',
         "(entry)", "does not apply to a CONTFUT"),
        ("{symbol: ES, sec_type: OPT, exchange: CME}", "sec_type", "STK"),
        ("{symbol: SPY, sec_type: STK, primary_exchange: ARCA, multiplier: '100'}", "(entry)", "multiplier"),
        ("{symbol: SPY, primary_exchange: ARCA, adjusted: maybe}", "adjusted", "boolean"),
    ],
    ids=["cash-exchange", "cash-symbol", "cash-primary", "fut-no-month", "fut-bad-month", "fut-exchange",
         "contfut-month", "unknown-type", "stk-multiplier", "stk-adjusted"],
)  # fmt: skip
def test_bad_entry_per_type_names_file_entry_and_field(tmp_path, entry, field, says):
    with pytest.raises(UniverseError) as error:
        _load(tmp_path, entry)
    message = str(error.value)
    assert str(tmp_path / "universe.yaml") in message
    assert f"instruments[0] (symbol {entry.split('symbol: ')[1].split(',')[0]}), field {field}" in message
    assert says in message
