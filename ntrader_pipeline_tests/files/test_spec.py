"""The file source definition, its instrument, and which files it names."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.ingest.files.errors import FileSourceError
from ntrader_pipeline.ingest.files.instrument import file_instrument
from ntrader_pipeline.ingest.files.paths import matched_files
from ntrader_pipeline.markets.file_source import FileSource


def test_defaults_and_canonical_bar_spec():
    source = FileSource(path="bars/spy.csv", venue="NASDAQ", bar_spec="5-minute-last")
    assert source.bar_spec == "5-MINUTE-LAST" and source.spec.step == 5
    assert source.timezone == "America/New_York" and source.timestamp_marks == "open"
    assert source.price_precision == 2
    with pytest.raises(ValidationError):
        source.venue = "XNAS"  # frozen
    mapped = FileSource(path="spy.csv", venue="XNAS", columns={"close": "Last"})
    assert hash(mapped) == hash(FileSource(path="spy.csv", venue="XNAS", columns={"close": "Last"}))
    assert mapped == FileSource(path="spy.csv", venue="XNAS", columns={"close": "Last"})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"venue": "xnas"}, "venue 'xnas' must be an upper-case code such as XNAS or NASDAQ"),
        ({"columns": {"Close": "Last"}}, "columns maps unknown field(s) Close; map any of timestamp, open"),
        ({"timezone": "New York"}, "time zone 'New York' is unknown; use an IANA name"),
        ({"bar_spec": "2-MINUTE-LAST"}, "bar spec '2-MINUTE-LAST' is not supported"),
        ({"price_increment": "0"}, "price_increment must be a positive number"),
        ({"currency": "DOLLAR"}, "currency 'DOLLAR' is not a currency code"),
        ({"format": "xlsx"}, "format"),
        ({"timestamp_marks": "middle"}, "timestamp_marks"),
        ({"separator": ";"}, "separator"),
    ],
)
def test_invalid_fields_are_named(fields, message):
    with pytest.raises(ValidationError) as error:
        FileSource(**{"path": "spy.csv", "venue": "XNAS", **fields})
    assert message in str(error.value)


def test_instrument_is_symbol_at_venue_and_stable(tmp_path):
    source = FileSource(path="x.csv", venue="XNAS", price_increment=Decimal("0.0001"), lot_size=100)
    instrument = file_instrument("SPY", source)
    assert instrument.id.value == "SPY.XNAS"
    assert instrument.price_precision == 4 and str(instrument.price_increment) == "0.0001"
    assert instrument.size_precision == 0 and instrument.lot_size.as_double() == 100
    assert instrument.ts_event == instrument.ts_init == 0
    store = CatalogStore(tmp_path)
    assert store.write_instrument(instrument) is True
    assert store.write_instrument(file_instrument("SPY", source)) is False  # identical: stored once


def test_paths_resolve_against_the_base_dir(tmp_path):
    (tmp_path / "data").mkdir()
    for name in ("b.csv", "a.csv", "notes.txt"):
        (tmp_path / "data" / name).write_text("timestamp\n")
    directory = FileSource(path="data", venue="XNAS")
    assert matched_files(directory, tmp_path) == (
        [tmp_path / "data" / "a.csv", tmp_path / "data" / "b.csv"],
        "csv",
    )
    absolute = FileSource(path=str(tmp_path / "data" / "notes.txt"), venue="XNAS", format="csv")
    assert matched_files(absolute, tmp_path / "elsewhere") == ([tmp_path / "data" / "notes.txt"], "csv")


def test_a_source_reads_one_format(tmp_path):
    for name in ("a.csv", "b.parquet"):
        (tmp_path / name).write_text("x")
    with pytest.raises(FileSourceError, match="mixes CSV and Parquet"):
        matched_files(FileSource(path=".", venue="XNAS"), tmp_path)
    assert matched_files(FileSource(path=".", venue="XNAS", format="parquet"), tmp_path)[0] == [
        tmp_path / "b.parquet"
    ]
