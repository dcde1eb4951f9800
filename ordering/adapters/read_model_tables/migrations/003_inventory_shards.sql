-- A hot SKU's stock may be split into shards (docs/benchmarks.md §5). Each shard is its own
-- aggregate in the log (stream SKU#<sku> for shard 0, SKU#<sku>#<n> for shard n) and so its
-- own row here, keyed by `head`, the stream's name after "SKU#". Shard 0's row also holds the
-- catalog: price, currency, `shards` (how many shards orders reserve from) and `span` (how
-- many may hold stock). A SKU's stock is the sum of its rows: the view sku_stock.

ALTER TABLE {schema}.inventory RENAME COLUMN sku TO head;
ALTER TABLE {schema}.inventory ADD COLUMN sku text;
ALTER TABLE {schema}.inventory ADD COLUMN shard integer NOT NULL DEFAULT 0 CHECK (shard >= 0);
ALTER TABLE {schema}.inventory ADD COLUMN shards integer NOT NULL DEFAULT 1 CHECK (shards >= 1);
ALTER TABLE {schema}.inventory ADD COLUMN span integer NOT NULL DEFAULT 1 CHECK (span >= 1);
UPDATE {schema}.inventory SET sku = head;
ALTER TABLE {schema}.inventory ALTER COLUMN sku SET NOT NULL;
CREATE INDEX inventory_sku ON {schema}.inventory (sku);

CREATE VIEW {schema}.sku_stock AS
SELECT sku,
       sum(stock_quantity)::integer AS stock_quantity,
       sum(reserved)::integer       AS reserved,
       sum(committed)::integer      AS committed,
       max(shards) FILTER (WHERE shard = 0) AS shards
  FROM {schema}.inventory
 GROUP BY sku;
