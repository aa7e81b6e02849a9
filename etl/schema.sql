-- Curated warehouse schema: the contract between the ETL (writer) and the dashboard (reader).
-- One DuckDB file per published snapshot; the same tables are materialised as Parquet
-- beside it. Counts are stored, never shares; higher levels are sums of the finest level.

-- Key/value facts about the build (instance, title, attribution, built_at, ...).
CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- Spatial levels, coarse to fine (rank 0 = whole city).
CREATE TABLE levels (
    level    VARCHAR PRIMARY KEY,   -- 'city', 'borough', 'district', ...
    rank     INTEGER NOT NULL,      -- 0 = coarsest
    label_de VARCHAR NOT NULL,
    label_en VARCHAR NOT NULL
);

-- Areas of every level, versioned by geometry vintage.
CREATE TABLE areas (
    area_id    VARCHAR NOT NULL,
    level      VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    parent_id  VARCHAR,             -- NULL for the root (city)
    vintage    VARCHAR NOT NULL,    -- e.g. '2010'
    valid_from DATE NOT NULL,
    valid_to   DATE,                -- NULL = still valid
    PRIMARY KEY (area_id, vintage)
);

-- Ancestor closure: every finest-level area mapped to itself and each ancestor.
CREATE TABLE area_closure (
    member_id VARCHAR NOT NULL,     -- finest-level area
    area_id   VARCHAR NOT NULL,     -- the member itself or one of its ancestors
    level     VARCHAR NOT NULL,     -- level of area_id
    vintage   VARCHAR NOT NULL,
    PRIMARY KEY (member_id, area_id, vintage)
);

-- Web geometry: simplified GeoJSON geometry (WGS84), exterior rings clockwise for plotly geo.
CREATE TABLE area_geometry (
    area_id  VARCHAR NOT NULL,
    level    VARCHAR NOT NULL,
    vintage  VARCHAR NOT NULL,
    geojson  VARCHAR NOT NULL,      -- a GeoJSON geometry object (Polygon/MultiPolygon)
    PRIMARY KEY (area_id, vintage)
);

-- Residents by finest area and characteristics (aggregated from the person-level register).
CREATE TABLE population (
    ref_date             DATE NOT NULL,
    area_id              VARCHAR NOT NULL,  -- finest level
    sex                  VARCHAR NOT NULL,  -- m, w, d, x
    age_group            VARCHAR NOT NULL,  -- see etl/transform/age_groups.csv
    citizenship          VARCHAR NOT NULL,  -- deutsch, auslaendisch
    migration_status     VARCHAR NOT NULL,  -- see docs/DATA_MODEL.md
    migration_background VARCHAR NOT NULL,  -- mit, ohne
    origin_region        VARCHAR NOT NULL,  -- eu, europa_sonstige, asien, afrika, amerika, ozeanien, unbekannt, keine
    definition_id        VARCHAR NOT NULL,  -- e.g. register_migrapro
    count                BIGINT NOT NULL,
    key_sum              UBIGINT NOT NULL,  -- sum of the persons' record keys (cell-key method, etl/protect/cellkey.py)
    PRIMARY KEY (ref_date, area_id, sex, age_group, citizenship, migration_status, origin_region)
);

-- Cells of statistics-office tables (GENESIS, district tables) for the areas of this
-- instance, as delivered: the office's value symbols are kept in `flag`, never made 0.
CREATE TABLE observations (
    source_id VARCHAR NOT NULL,     -- table id of the profile
    table_id  VARCHAR NOT NULL,     -- the office's table id (GENESIS) or the file name
    ref_date  DATE NOT NULL,
    area_id   VARCHAR NOT NULL,
    variable  VARCHAR NOT NULL,     -- column (header path joined by ' | ')
    dims      VARCHAR NOT NULL,     -- row dimension labels joined by ' | ', '' if none
    unit      VARCHAR NOT NULL,
    value     DOUBLE,               -- NULL when flagged
    flag      VARCHAR               -- nil, secret, not_applicable, unreliable, pending
);

-- Counts of every term (a group, a measure or their intersection, e.g.
-- 'foreigners&under_18') an indicator needs: additive terms at the finest level (higher
-- levels are sums), non-additive measures (published rates) for the areas given.
CREATE TABLE area_counts (
    ref_date  DATE NOT NULL,
    area_id   VARCHAR NOT NULL,
    term      VARCHAR NOT NULL,
    value     DOUBLE,               -- NULL when flagged
    flag      VARCHAR,
    source_id VARCHAR NOT NULL,     -- 'register' or the table id of the profile
    key_sum   UBIGINT,              -- register: sum of the persons' record keys; NULL for office tables
    PRIMARY KEY (ref_date, area_id, term)
);

-- Indicator catalogue (from indicators.yaml).
CREATE TABLE indicators (
    indicator_id   VARCHAR PRIMARY KEY,
    function       VARCHAR NOT NULL,    -- count, share, ratio, observed, location_quotient,
                                        -- segregation_is, dissimilarity, isolation, exposure,
                                        -- entropy, gini, concentration_share (city-wide indices)
    topic          VARCHAR NOT NULL,
    title_de       VARCHAR NOT NULL,
    title_en       VARCHAR NOT NULL,
    definition_de  VARCHAR NOT NULL,
    definition_en  VARCHAR NOT NULL,
    numerator_de   VARCHAR,
    denominator_de VARCHAR,
    numerator_en   VARCHAR,
    denominator_en VARCHAR,
    unit           VARCHAR NOT NULL,    -- persons, percent, per_100, index
    unit_de        VARCHAR NOT NULL,    -- 'Personen', '%', 'je 100', 'Index (0–1)'
    unit_en        VARCHAR NOT NULL,
    decimals       INTEGER NOT NULL,
    source         VARCHAR NOT NULL,
    definition_id  VARCHAR NOT NULL,
    sort_order     INTEGER NOT NULL
);

-- Every indicator for every area, level and reference date.
-- For area indicators `level` is the level of area_id. For segregation indices the value
-- describes the whole area_id (the city) computed over units of `level`; n_units says how many.
CREATE TABLE indicator_values (
    indicator_id  VARCHAR NOT NULL,
    ref_date      DATE NOT NULL,
    area_id       VARCHAR NOT NULL,
    level         VARCHAR NOT NULL,
    value         DOUBLE,               -- NULL when suppressed or undefined
    numerator     DOUBLE,
    denominator   DOUBLE,
    flag          VARCHAR,              -- NULL, 'suppressed', 'undefined', 'incomplete' or a
                                        -- source symbol flag (etl/sources/value_flags.csv)
    definition_id VARCHAR NOT NULL,
    n_units       INTEGER,              -- segregation indices: number of units used
    PRIMARY KEY (indicator_id, ref_date, area_id, level)
);

-- Random-allocation benchmark of the city-wide indices (etl/indicators/random_allocation.py):
-- the index recomputed for `draw` = 1..D seeded simulations in which the same group sizes
-- are spread at random over the same units (unit populations kept). Expected value and
-- 95 % range = avg / quantiles over the draws; see BASELINE_SQL and CHANGE_SQL there.
CREATE TABLE random_allocation (
    indicator_id VARCHAR NOT NULL,
    ref_date     DATE NOT NULL,
    area_id      VARCHAR NOT NULL,
    level        VARCHAR NOT NULL,
    draw         INTEGER NOT NULL,
    value        DOUBLE,                -- NULL when the index is undefined/incomplete
    PRIMARY KEY (indicator_id, ref_date, area_id, level, draw)
);

-- Lineage: every raw file that went into this build.
CREATE TABLE loads (
    load_id        INTEGER PRIMARY KEY,
    source         VARCHAR NOT NULL,
    file           VARCHAR NOT NULL,    -- path relative to the raw directory
    sha256         VARCHAR NOT NULL,
    rows           BIGINT NOT NULL,
    reference_date DATE,
    loaded_at      TIMESTAMP NOT NULL,
    status         VARCHAR NOT NULL     -- 'ok'
);
