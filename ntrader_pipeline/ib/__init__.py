"""Everything that knows Nautilus' Interactive Brokers client and ibapi.

The rest of the package fetches IB data through these modules' public names and never touches the client's
internals, so a Nautilus upgrade is absorbed here:

- `client.IBConnection`: one bounded, synchronous connection (instruments, bars, server info);
- `requests`: requests IB serves only up to now (CONTFUT, ADJUSTED_LAST);
- `contracts`: universe entries as IB contracts;
- `codes`: IB's error codes and texts → what to do next (`Outcome`);
- `pacing`: IB's historical-data pacing rules, enforced across processes before each request;
- `fetcher.IBFetcher`: a run's paced, classified, retried session fetches (thread-safe);
- `interleave.InterleavedPool`: up to N jobs in flight, lanes (instruments) taking turns.
"""
