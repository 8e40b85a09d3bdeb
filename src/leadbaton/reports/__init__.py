"""Reports: read-only views of the ledger, the activities and the clocks (reconciliation, service levels, marketing)."""
