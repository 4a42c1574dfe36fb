-- The provider (market role) schema, spec/payments.md §8.8. SQLite flavour; the PostgreSQL file
-- beside this one has the same tables, columns and constraints. Times are integer milliseconds
-- since the Unix epoch; booleans are integers 0/1 (identical on both backends through AnyPool).

CREATE TABLE apps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE app_origins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT NOT NULL REFERENCES apps(id),
    origin TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('app', 'notice')),
    position BIGINT NOT NULL,
    UNIQUE (app_id, origin, kind)
);

CREATE TABLE keys (
    key TEXT PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES apps(id),
    secret TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('simulation', 'live')),
    state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE INDEX keys_app ON keys (app_id);

CREATE TABLE price_tiers (
    id TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL
);

CREATE TABLE prices (
    tier_id TEXT NOT NULL REFERENCES price_tiers(id),
    currency TEXT NOT NULL,
    amount TEXT NOT NULL,
    UNIQUE (tier_id, currency)
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT NOT NULL REFERENCES apps(id),
    guid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    price_id TEXT NOT NULL REFERENCES price_tiers(id),
    default_locale TEXT NOT NULL,
    locales_json TEXT NOT NULL,
    icons_json TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (app_id, guid)
);

CREATE TABLE buyers (
    id TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL
);

CREATE TABLE directed_ids (
    buyer_id TEXT NOT NULL REFERENCES buyers(id),
    app_id BIGINT NOT NULL REFERENCES apps(id),
    value TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    UNIQUE (buyer_id, app_id)
);

CREATE TABLE checkouts (
    id TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    buyer_id TEXT NOT NULL,
    key TEXT NOT NULL REFERENCES keys(key),
    app_id BIGINT NOT NULL REFERENCES apps(id),
    request_id TEXT NOT NULL,
    price_point TEXT NOT NULL,
    request_json TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    jwt_exp BIGINT NOT NULL,
    simulate_json TEXT,
    state TEXT NOT NULL CHECK (state IN ('open', 'paid', 'cancelled', 'failed', 'expired')),
    end_code TEXT,
    created_ms BIGINT NOT NULL,
    ended_ms BIGINT
);

CREATE TABLE transactions (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    transaction_id TEXT NOT NULL UNIQUE,
    app_id BIGINT NOT NULL REFERENCES apps(id),
    key TEXT NOT NULL REFERENCES keys(key),
    kind TEXT NOT NULL CHECK (kind IN ('simulate', 'live', 'free')),
    request_id TEXT NOT NULL,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    usd_amount TEXT NOT NULL,
    buyer_id TEXT NOT NULL REFERENCES buyers(id),
    directed_id TEXT NOT NULL,
    request_json TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('completed', 'refunded', 'reversed')),
    checkout_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (key, payload_sha256)
);
CREATE INDEX transactions_app ON transactions (app_id, number);

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_number BIGINT NOT NULL UNIQUE REFERENCES transactions(number),
    reason TEXT NOT NULL CHECK (reason IN ('refund', 'reversal')),
    source TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_number BIGINT NOT NULL REFERENCES transactions(number),
    kind TEXT NOT NULL CHECK (kind IN ('postback', 'chargeback')),
    url TEXT NOT NULL,
    reason TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'delivering', 'delivered', 'retry_wait', 'failed', 'dropped')),
    series BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_outcome TEXT,
    last_status BIGINT,
    last_body TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (transaction_number, kind)
);
CREATE INDEX notices_due ON notices (state, next_attempt_at);

CREATE TABLE notice_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id BIGINT NOT NULL REFERENCES notices(id),
    series BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    url TEXT NOT NULL,
    http_status BIGINT,
    outcome TEXT NOT NULL,
    body_prefix TEXT,
    iat BIGINT NOT NULL
);
CREATE INDEX notice_attempts_notice ON notice_attempts (notice_id, id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('root', 'ephemeral')),
    alg TEXT NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    private_pkcs8 TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    certificate TEXT,
    parent_kid TEXT,
    price_limit BIGINT,
    not_before_ms BIGINT NOT NULL,
    not_after_ms BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'published', 'retired')),
    created_ms BIGINT NOT NULL
);

CREATE TABLE issued_receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_number BIGINT NOT NULL REFERENCES transactions(number),
    iat BIGINT NOT NULL,
    exp BIGINT NOT NULL,
    kid TEXT NOT NULL,
    source TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX issued_receipts_tx ON issued_receipts (transaction_number);

CREATE TABLE issue_jtis (
    jti TEXT PRIMARY KEY,
    seen_ms BIGINT NOT NULL
);

CREATE TABLE settings (
    scope TEXT PRIMARY KEY,
    mode TEXT NOT NULL CHECK (mode IN ('normal', 'slow', 'fail', 'disabled', 'drop_notices', 'corrupt_notices', 'verify_pending')),
    slow_ms BIGINT NOT NULL,
    simulations_enabled BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE dev_logins (
    id_sha256 TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);

CREATE TABLE admin_token (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    token_sha256 TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

INSERT INTO settings (scope, mode, slow_ms, simulations_enabled, updated_ms)
VALUES ('global', 'normal', 5000, 1, 0);

-- Price tiers of §8.3; tier 99 is USD only.
INSERT INTO price_tiers (id, created_ms) VALUES
    ('0', 0), ('1', 0), ('2', 0), ('3', 0), ('4', 0), ('5', 0), ('6', 0), ('7', 0), ('8', 0),
    ('9', 0), ('10', 0), ('99', 0);
INSERT INTO prices (tier_id, currency, amount) VALUES
    ('0', 'USD', '0.00'), ('0', 'EUR', '0.00'), ('0', 'GBP', '0.00'), ('0', 'BRL', '0.00'), ('0', 'TWD', '0.00'),
    ('1', 'USD', '0.10'), ('1', 'EUR', '0.10'), ('1', 'GBP', '0.10'), ('1', 'BRL', '0.50'), ('1', 'TWD', '3.00'),
    ('2', 'USD', '0.25'), ('2', 'EUR', '0.25'), ('2', 'GBP', '0.20'), ('2', 'BRL', '1.25'), ('2', 'TWD', '8.00'),
    ('3', 'USD', '0.50'), ('3', 'EUR', '0.49'), ('3', 'GBP', '0.45'), ('3', 'BRL', '2.49'), ('3', 'TWD', '15.00'),
    ('4', 'USD', '0.99'), ('4', 'EUR', '0.99'), ('4', 'GBP', '0.89'), ('4', 'BRL', '4.99'), ('4', 'TWD', '30.00'),
    ('5', 'USD', '1.99'), ('5', 'EUR', '1.89'), ('5', 'GBP', '1.69'), ('5', 'BRL', '9.99'), ('5', 'TWD', '60.00'),
    ('6', 'USD', '2.99'), ('6', 'EUR', '2.89'), ('6', 'GBP', '2.49'), ('6', 'BRL', '14.99'), ('6', 'TWD', '90.00'),
    ('7', 'USD', '4.99'), ('7', 'EUR', '4.79'), ('7', 'GBP', '4.19'), ('7', 'BRL', '24.99'), ('7', 'TWD', '150.00'),
    ('8', 'USD', '9.99'), ('8', 'EUR', '9.49'), ('8', 'GBP', '8.49'), ('8', 'BRL', '49.99'), ('8', 'TWD', '300.00'),
    ('9', 'USD', '19.99'), ('9', 'EUR', '18.99'), ('9', 'GBP', '16.99'), ('9', 'BRL', '99.99'), ('9', 'TWD', '600.00'),
    ('10', 'USD', '49.99'), ('10', 'EUR', '47.99'), ('10', 'GBP', '42.99'), ('10', 'BRL', '249.99'), ('10', 'TWD', '1490.00'),
    ('99', 'USD', '0.99');
