"""One module per claim: a frozen config per scale and run(config) -> Result."""
