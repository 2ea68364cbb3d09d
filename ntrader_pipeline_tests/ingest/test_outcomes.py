"""Classification of what one request produced, on recorded IB errors."""

import pytest

from ntrader_pipeline.ib.codes import Outcome, classify
from ntrader_pipeline.ingest.errors import IBError

NO_DATA = IBError(
    7, 162, "Historical Market Data Service error message:HMDS query returned no data: SPY@ARCA Trades"
)
PACING = IBError(
    7, 162, "Historical Market Data Service error message:Historical data request pacing violation"
)
NO_CONTRACT = IBError(7, 200, "No security definition has been found for the request")
INVALID = IBError(7, 321, "Error validating request.-'bar size' : cause - invalid")
LOST = IBError(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
RESTORED_LOST = IBError(-1, 1101, "Connectivity between IB and TWS has been restored- data lost.")
RESTORED = IBError(-1, 1102, "Connectivity between IB and TWS has been restored- data maintained.")
TIMEOUT = IBError(-1, 0, "no answer within 4 s (timed out)")


@pytest.mark.parametrize(
    ("errors", "alive", "outcome", "pacing"),
    [
        ([NO_DATA], True, Outcome.EMPTY, False),
        ([PACING], True, Outcome.RETRY, True),
        ([NO_CONTRACT], True, Outcome.FATAL, False),
        ([INVALID], True, Outcome.FATAL, False),
        ([LOST], True, Outcome.RETRY, False),
        ([RESTORED_LOST], True, Outcome.RETRY, False),
        ([RESTORED], True, Outcome.RETRY, False),
        ([TIMEOUT], True, Outcome.RETRY, False),
        ([], False, Outcome.RETRY, False),  # dropped socket / dead handler
        ([], True, Outcome.RETRY, False),  # short data, no word from IB
    ],
)
def test_incomplete_requests(errors, alive, outcome, pacing):
    verdict = classify(complete=False, errors=errors, client_alive=alive, incomplete_reason="expected 390")
    assert verdict.outcome is outcome
    assert verdict.pacing is pacing
    assert verdict.reason


def test_complete_bars_win_over_notices_but_not_over_fatal_errors():
    assert classify(complete=True, errors=[RESTORED], client_alive=True).outcome is Outcome.COMPLETE
    assert classify(complete=True, errors=[NO_CONTRACT], client_alive=True).outcome is Outcome.FATAL


def test_reasons_carry_ib_text():
    assert "pacing violation" in classify(complete=False, errors=[PACING], client_alive=True).reason
    assert classify(complete=False, errors=[NO_DATA], client_alive=True).reason.endswith("SPY@ARCA Trades")
    silent = classify(complete=False, errors=[], client_alive=True, incomplete_reason="expected 390, got 3")
    assert silent.reason == "expected 390, got 3"
    dead = classify(complete=False, errors=[], client_alive=False)
    assert "stopped reading" in dead.reason
