-- The read model: the current state of every aggregate, derived from the event log.
--
-- `{schema}` is replaced by the (quoted) schema the migrator applies this to: the live
-- schema on deploy, a fresh one during replay. Every name is schema-qualified, never found
-- through search_path, so that replay can swap schemas while queries keep running.
--
-- Each row keeps `version`, the version of the aggregate's stream it reflects: the
-- projector skips an event at or below it and heals a gap above version + 1.
--
-- No foreign keys between aggregates (orders -> users): streams are projected independently
-- and in no order relative to each other, so an order may arrive before its user.

CREATE TABLE {schema}.users (
    user_id       uuid        PRIMARY KEY,
    email         text        NOT NULL,
    registered_at timestamptz NOT NULL,
    version       integer     NOT NULL CHECK (version >= 1)
);

CREATE TABLE {schema}.orders (
    order_id          uuid           PRIMARY KEY,
    user_id           uuid           NOT NULL,
    email             text           NOT NULL,
    status            text           NOT NULL
        CHECK (status IN ('PENDING', 'PAID', 'FULFILLED', 'PAYMENT_FAILED', 'CANCELLED')),
    total             numeric(12, 2) NOT NULL CHECK (total >= 0),
    currency          text           NOT NULL CHECK (currency ~ '^[A-Z][A-Z][A-Z]$'),
    client_reference  text,
    payment_reference text,
    failure_reason    text,
    emails_sent       text[]         NOT NULL DEFAULT ARRAY[]::text[],
    created_at        timestamptz    NOT NULL,
    updated_at        timestamptz    NOT NULL,
    version           integer        NOT NULL CHECK (version >= 1)
);

-- "The caller's orders, newest first": the order id breaks ties, so keyset pagination is exact.
CREATE INDEX orders_by_user ON {schema}.orders (user_id, created_at DESC, order_id DESC);

CREATE TABLE {schema}.order_items (
    order_id   uuid           NOT NULL REFERENCES {schema}.orders (order_id) ON DELETE CASCADE,
    line_no    smallint       NOT NULL CHECK (line_no >= 0),
    sku        text           NOT NULL,
    quantity   integer        NOT NULL CHECK (quantity >= 1),
    unit_price numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    line_total numeric(12, 2) NOT NULL CHECK (line_total >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE {schema}.inventory (
    sku            text           PRIMARY KEY,
    stock_quantity integer        NOT NULL CHECK (stock_quantity >= 0),  -- available to order
    reserved       integer        NOT NULL CHECK (reserved >= 0),        -- held by pending orders
    committed      integer        NOT NULL CHECK (committed >= 0),       -- sold
    price          numeric(12, 2) CHECK (price >= 0),                    -- null until first priced
    currency       text           CHECK (currency ~ '^[A-Z][A-Z][A-Z]$'),
    version        integer        NOT NULL CHECK (version >= 1)
);
