-- placeholder: the market schema; replaced by the first real migration
CREATE TABLE IF NOT EXISTS schema_info (k TEXT PRIMARY KEY, v TEXT NOT NULL);
