"""`ntrader connect --check-data`: one daily bar per symbol, and what IB says about each one's permissions."""

from ntrader_pipeline.gateway.realities import MarketReality
from ntrader_pipeline_tests.ntrader_cli.test_ntrader_cli import ntrader


def test_check_data_reports_permissions_per_symbol(ib_gateway):
    ib_gateway.realities.set("QQQ", MarketReality(permission="no_permissions"))
    ib_gateway.realities.set("IWM", MarketReality(permission="delayed"))
    result = ntrader(
        "connect",
        "--port",
        str(ib_gateway.port),
        "--client-id",
        "8",
        "--check-data",
        "SPY.ARCA,ILLQ.NASDAQ,QQQ.NASDAQ,IWM.ARCA,NOPE.NYSE",
    )
    assert result.returncode == 3, result.stderr
    lines = {line.split(":")[0].strip(): line for line in result.stdout.splitlines() if line.startswith("  ")}
    assert "ok — 1 bar" in lines["SPY.ARCA"]
    assert "ok — 1 bar" in lines["ILLQ.NASDAQ"]
    assert "NO PERMISSION" in lines["QQQ.NASDAQ"]
    assert (
        "error 162" in lines["QQQ.NASDAQ"]
        and "No market data permissions for ISLAND STK" in lines["QQQ.NASDAQ"]
    )
    assert "Market Data Subscriptions" in lines["QQQ.NASDAQ"]
    assert "ok" in lines["IWM.ARCA"] and "10167" in lines["IWM.ARCA"]
    assert "UNKNOWN CONTRACT" in lines["NOPE.NYSE"]
    assert "no market data for QQQ.NASDAQ, NOPE.NYSE" in result.stdout


def test_check_data_all_permitted_exits_zero(ib_gateway):
    result = ntrader(
        "connect", "--port", str(ib_gateway.port), "--client-id", "9", "--check-data", "SPY.ARCA"
    )
    assert result.returncode == 0, result.stderr
    assert "SPY.ARCA: ok" in result.stdout
