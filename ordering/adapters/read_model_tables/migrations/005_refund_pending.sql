-- A paid order its customer cancelled waits in REFUND_PENDING until the refund is made
-- (then it is CANCELLED). Postgres named the column's CHECK orders_status_check.

ALTER TABLE {schema}.orders DROP CONSTRAINT orders_status_check;
ALTER TABLE {schema}.orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'PAID', 'REFUND_PENDING', 'FULFILLED', 'PAYMENT_FAILED', 'CANCELLED'));
