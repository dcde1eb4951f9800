-- Reconciliation (ordering/services/reconciliation.py) checks, on every run, every order not yet
-- in a final state, a page at a time by order id. This partial index holds only those orders
-- (its states are ordering/ports/read_model.py's UNFINISHED), with what the check reads, so a
-- page is a short index-only range read however many finished orders the table holds.
CREATE INDEX orders_unfinished ON {schema}.orders (order_id) INCLUDE (updated_at, version)
    WHERE status IN ('PENDING', 'PAID', 'REFUND_PENDING', 'PAYMENT_FAILED');

-- Where the last run's sweep of the unfinished orders stopped when its time ran out: the next
-- run goes on after this order id (none: from the first). One row at most.
CREATE TABLE {schema}.reconcile_sweep (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    after_order uuid
);
