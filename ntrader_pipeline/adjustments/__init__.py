"""Corporate actions: split ratios, adjustment factors from IB's ADJUSTED_LAST closes, and applying them."""
