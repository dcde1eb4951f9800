-- Reconciliation (ordering/services/reconciliation.py) reads the orders updated in the last
-- hours, newest first: this index keeps that a range read, not a scan of every order.
CREATE INDEX orders_by_update ON {schema}.orders (updated_at DESC);
