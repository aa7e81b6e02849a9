-- Migration background from person-level register data (definition register_migrapro).
-- Rules (first match wins) are documented in docs/DATA_MODEL.md. {ref_date} is replaced by
-- the reference date (ISO) before the statement runs: a view takes no parameters.
-- Input: TEMP stg_persons, countries(code, region, eu_from, eu_to), age_groups.
-- Output: TEMP VIEW persons_mb with one row per person (person_id: for the record key of
-- the cell-key method, etl/protect/cellkey.py); a view, so the persons are counted as
-- they are derived, not copied once more.
CREATE OR REPLACE TEMP VIEW persons_mb AS
WITH ages AS (
    -- every age of every group: an equi-join on the age, not a range join per person
    SELECT unnest(range(min_age, max_age + 1)) AS age, age_group FROM age_groups
),

persons AS (
    SELECT
        *,
        year(DATE '{ref_date}') - birth_year AS age,
        'DE' IN (citizenship_1, coalesce(citizenship_2, '')) AS is_german,
        -- the non-German citizenship of a German with two citizenships
        CASE WHEN citizenship_1 = 'DE' THEN nullif(citizenship_2, 'DE')
             ELSE citizenship_1 END AS other_citizenship
    FROM stg_persons
),

birth AS (
    SELECT
        p.*,
        coalesce(c.region NOT IN ('inland', 'unbekannt'), false) AS born_abroad
    FROM persons AS p
    LEFT JOIN countries AS c ON c.code = p.country_of_birth
),

own AS (
    SELECT
        *,
        CASE
            WHEN NOT is_german THEN 'auslaender'
            WHEN repatriate THEN 'spaetaussiedler'
            WHEN naturalised THEN 'eingebuergert'
            WHEN other_citizenship IS NOT NULL THEN 'doppelte_staatsangehoerigkeit'
            WHEN born_abroad AND arrival_year IS NOT NULL THEN 'zugewandert'
        END AS own_status,
        CASE
            WHEN NOT is_german THEN citizenship_1
            WHEN repatriate THEN country_of_birth
            WHEN naturalised AND born_abroad THEN country_of_birth
            WHEN naturalised THEN other_citizenship
            WHEN other_citizenship IS NOT NULL THEN other_citizenship
            WHEN born_abroad AND arrival_year IS NOT NULL THEN country_of_birth
        END AS own_origin
    FROM birth
),

parents AS (
    -- households whose reference person (HV) or partner (EP) has a migration background;
    -- the HV's origin is preferred
    SELECT
        household_id,
        arg_min(own_origin, CASE household_position WHEN 'HV' THEN 0 ELSE 1 END) AS origin
    FROM own
    WHERE household_position IN ('HV', 'EP') AND own_status IS NOT NULL
    GROUP BY household_id
),

derived AS (
    SELECT
        o.*,
        CASE
            WHEN o.own_status IS NOT NULL THEN o.own_status
            WHEN o.age < 18 AND o.household_position = 'K' AND p.household_id IS NOT NULL
                THEN 'abgeleitet'
            ELSE 'keiner'
        END AS migration_status,
        CASE WHEN o.own_status IS NOT NULL THEN o.own_origin ELSE p.origin END AS origin
    FROM own AS o
    LEFT JOIN parents AS p ON p.household_id = o.household_id
),

final AS (
    SELECT
        d.person_id,
        d.area_id,
        d.sex,
        g.age_group,
        CASE WHEN d.is_german THEN 'deutsch' ELSE 'auslaendisch' END AS citizenship,
        d.migration_status,
        CASE WHEN d.migration_status = 'keiner' THEN 'ohne' ELSE 'mit' END
            AS migration_background,
        CASE
            WHEN d.migration_status = 'keiner' THEN 'keine'
            WHEN c.code IS NULL OR c.region = 'inland' THEN 'unbekannt'
            WHEN DATE '{ref_date}' BETWEEN c.eu_from AND coalesce(c.eu_to, DATE '9999-12-31')
                THEN 'eu'
            ELSE c.region
        END AS origin_region
    FROM derived AS d
    INNER JOIN ages AS g ON g.age = d.age
    LEFT JOIN countries AS c ON c.code = d.origin
)

SELECT * FROM final;
