import pytest

from ntrader_pipeline.markets.universe import BarSpec, UniverseError, load_universe
from ntrader_pipeline.settings import PipelineSettings


def test_committed_demo_universe_loads():
    universe = load_universe(PipelineSettings().universe)
    assert universe.instrument_ids == ["SPY.ARCA", "QQQ.NASDAQ", "IWM.ARCA", "ILLQ.NASDAQ", "ILLQ-ADJ.NASDAQ"]
    # the adjusted twin is daily only (IB's ADJUSTED_LAST)
    assert not universe.provides(universe.instrument("ILLQ-ADJ.NASDAQ"), universe.bar_specs[0])
    assert [str(s) for s in universe.bar_specs] == ["1-MINUTE-LAST", "1-DAY-LAST"]
    assert universe.bar_specs[0].bar_type("SPY.ARCA") == "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"
    assert universe.bar_specs[0].ib_bar_size == "1 min"


def _write(tmp_path, text):
    path = tmp_path / "universe.yaml"
    path.write_text(text)
    return path


def test_bad_entry_names_file_entry_and_field(tmp_path):
    path = _write(
        tmp_path,
        "bar_specs: [1-MINUTE-LAST]\ninstruments:\n"
        "  - {symbol: SPY, primary_exchange: ARCA}\n"
        "  - {symbol: QQQ, primary_exchange: NASDAQ, currency: dollars}\n",
    )
    with pytest.raises(UniverseError) as error:
        load_universe(path)
    message = str(error.value)
    assert str(path) in message
    assert "instruments[1] (symbol QQQ), field currency" in message


def test_unknown_field_and_duplicate_are_rejected(tmp_path):
    path = _write(
        tmp_path,
        "bar_specs: [1-MINUTE-LAST]\ninstruments:\n  - {symbol: SPY, primary_exchange: ARCA, expiry: 2024}\n",
    )
    with pytest.raises(UniverseError, match="field expiry"):
        load_universe(path)
    path = _write(
        tmp_path,
        "bar_specs: [1-MINUTE-LAST]\ninstruments:\n"
        "  - {symbol: SPY, primary_exchange: ARCA}\n  - {symbol: SPY, primary_exchange: ARCA}\n",
    )
    with pytest.raises(UniverseError, match=r"SPY\.ARCA is listed twice"):
        load_universe(path)


def test_bad_bar_spec_and_missing_file(tmp_path):
    path = _write(
        tmp_path, "bar_specs: [7-MINUTE-LAST]\ninstruments:\n  - {symbol: SPY, primary_exchange: ARCA}\n"
    )
    with pytest.raises(UniverseError, match="7-MINUTE-LAST"):
        load_universe(path)
    with pytest.raises(UniverseError, match="does not exist"):
        load_universe(tmp_path / "nope.yaml")


def test_bar_spec_round_trip():
    assert str(BarSpec.parse("1-day-last")) == "1-DAY-LAST"
    assert not BarSpec.parse("1-DAY-LAST").is_intraday
