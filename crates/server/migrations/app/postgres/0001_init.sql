-- The app server's schema (spec/payments.md §8.8, app server tables). Times are integer
-- milliseconds since the Unix epoch unless the column says seconds (`*_s`); flags are 0/1.

-- `mm_buyer` ids (§2.1). A row is written with the buyer's first order.
CREATE TABLE buyers (
    id          TEXT    PRIMARY KEY,
    created_ms  BIGINT NOT NULL
);

-- Orders (§2.2, §2.7). `request_json` is the exact signed `request` object; `jwt` the signed
-- pay JWT (so an idempotent replay returns the identical body). `transaction_id` is the first
-- transaction ID seen for the order, from a postback or a chargeback.
CREATE TABLE orders (
    id                  TEXT    PRIMARY KEY,
    buyer_id            TEXT    NOT NULL REFERENCES buyers (id),
    product_id          TEXT    NOT NULL,
    price_point         TEXT    NOT NULL,
    app_key             TEXT    NOT NULL,
    request_json        TEXT    NOT NULL,
    jwt                 TEXT    NOT NULL,
    simulated           BIGINT NOT NULL CHECK (simulated IN (0, 1)),
    jwt_iat_s           BIGINT NOT NULL,
    jwt_exp_s           BIGINT NOT NULL,
    idempotency_key     TEXT,
    state               TEXT    NOT NULL
        CHECK (state IN ('pending', 'paid', 'complete', 'refunded', 'reversed', 'abandoned')),
    transaction_id      TEXT    UNIQUE,
    receipt_unavailable BIGINT NOT NULL DEFAULT 0 CHECK (receipt_unavailable IN (0, 1)),
    created_ms          BIGINT NOT NULL,
    updated_ms          BIGINT NOT NULL,
    UNIQUE (buyer_id, idempotency_key)
);
-- Indexes are chosen so that a state change touches as few pages as possible (the notice path
-- is the hot write path): the buyer index does not contain the state, and the sweep's index only
-- holds pending orders.
CREATE INDEX orders_by_buyer ON orders (buyer_id, created_ms);
CREATE INDEX orders_pending_by_created ON orders (created_ms) WHERE state = 'pending';

-- Every accepted notice (§2.5 step 12). The primary key is the idempotency rule: one row per
-- (signed transaction ID, kind). `effect` is `applied` (the order's own transaction) or
-- `duplicate` (another transaction for an order that already has one); `refunded` marks a
-- duplicate postback whose transaction was later charged back.
CREATE TABLE notices (
    transaction_id  TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('postback', 'chargeback')),
    order_id        TEXT    NOT NULL REFERENCES orders (id),
    effect          TEXT    NOT NULL CHECK (effect IN ('applied', 'duplicate')),
    reason          TEXT    CHECK (reason IS NULL OR reason IN ('refund', 'reversal')),
    refunded        BIGINT NOT NULL DEFAULT 0 CHECK (refunded IN (0, 1)),
    iat_s           BIGINT NOT NULL,
    received_ms     BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, kind)
);

-- Products granted by an order (§2.6). Revoked by a chargeback.
CREATE TABLE entitlements (
    order_id        TEXT    PRIMARY KEY REFERENCES orders (id),
    buyer_id        TEXT    NOT NULL,
    product_id      TEXT    NOT NULL,
    transaction_id  TEXT    NOT NULL,
    granted_ms      BIGINT NOT NULL,
    revoked_ms      BIGINT
);
CREATE INDEX entitlements_by_buyer ON entitlements (buyer_id);

-- The receipt stored for an order (§2.8), replaced when refreshed (§2.6).
CREATE TABLE receipts (
    order_id    TEXT    PRIMARY KEY REFERENCES orders (id),
    receipt     TEXT    NOT NULL,
    exp_s       BIGINT NOT NULL,
    issued_ms   BIGINT NOT NULL,
    revoked     BIGINT NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);
