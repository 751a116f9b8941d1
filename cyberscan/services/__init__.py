"""Use cases. Services take plain values and models, own the transaction, raise domain errors."""
