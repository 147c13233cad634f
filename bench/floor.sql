-- The floor: every metric of SPEC "Metrics (exact definitions)", for every organization,
-- dimension and month, as ONE plain SELECT on PostgreSQL (no INSERT, no per-organization
-- loop). Written from SPEC independently of metrics/engine.py: it is the time a hand-tuned
-- query needs for the same rows, and a cross-check of the engine's figures.
--
-- Parameter: %(now)s, the computation instant (the months of client lifetime value run up to
-- its month; a repeat-business figure is provisional while a completion's 365 days are open).
-- Output: organization_id, key, dimension, dimension_value, period, value, numerator,
-- denominator, n, provisional.
--
-- Readings (the same SPEC text the engine reads):
-- * Leaving a phase = the first forward move out of it (a move to a later phase, `lost` out of
--   assess, `completed` out of close-out), timed from the entry into the stay it ends (the last
--   move into that phase before it). Holds count in the phase; cancellation leaves nothing.
-- * The decision is leaving assess: won unless it was `lost`.
-- * Kick-off: the first entry into plan, when it came from initiate, minus the entry into that
--   initiate stay.
-- * Dimensions as they are now; a missing manager puts the event in no manager value; an
--   event without a project (a touchpoint) counts in the client's dimensions only.
WITH
pd AS (  -- every project in each of its dimension values
    SELECT p.id AS project_id, p.organization_id AS org, p.client_id, v.dim, v.val
      FROM journey_project p
      JOIN journey_client c ON c.id = p.client_id
      LEFT JOIN accounts_user pm ON pm.id = p.project_manager_id
      LEFT JOIN accounts_user am ON am.id = c.account_manager_id
     CROSS JOIN LATERAL (VALUES ('overall', 'all'), ('segment', c.segment),
                                ('service_model', c.service_model), ('modality', p.modality),
                                ('project_manager', pm.email), ('account_manager', am.email))
           AS v(dim, val)
     WHERE v.val IS NOT NULL
),
cd AS (  -- every client in each of its dimension values
    SELECT c.id AS client_id, c.organization_id AS org, v.dim, v.val
      FROM journey_client c
      LEFT JOIN accounts_user am ON am.id = c.account_manager_id
     CROSS JOIN LATERAL (VALUES ('overall', 'all'), ('segment', c.segment),
                                ('service_model', c.service_model), ('account_manager', am.email))
           AS v(dim, val)
     WHERE v.val IS NOT NULL
),
tr AS (  -- the journal, with phase order and the start of the stay each entry happens in
    SELECT t.project_id, t.seq, t.kind, t.from_phase, t.to_phase, t.to_status, t.at,
           array_position(ARRAY['assess', 'initiate', 'plan', 'execute', 'close_out'],
                          t.from_phase::text) AS fi,
           array_position(ARRAY['assess', 'initiate', 'plan', 'execute', 'close_out'],
                          t.to_phase::text) AS ti,
           max(t.at) FILTER (WHERE t.from_phase IS NULL OR t.from_phase <> t.to_phase)
               OVER (PARTITION BY t.project_id ORDER BY t.seq
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS stay_start
      FROM journey_phasetransition t
),
lv AS (  -- the first forward move out of each phase
    SELECT DISTINCT ON (project_id, from_phase)
           project_id, from_phase AS phase, to_phase, kind, at AS left_at, stay_start
      FROM tr
     WHERE ti > fi
        OR (kind = 'lost' AND from_phase = 'assess')
        OR (kind = 'completed' AND from_phase = 'close_out')
     ORDER BY project_id, from_phase, seq
),
kickoff AS (  -- the first entry into plan, if it came from initiate
    SELECT project_id, at, stay_start
      FROM (SELECT DISTINCT ON (project_id) project_id, from_phase, at, stay_start
              FROM tr WHERE to_phase = 'plan' AND from_phase <> 'plan'
             ORDER BY project_id, seq) first_plan
     WHERE from_phase = 'initiate'
),
decided AS (
    SELECT lv.project_id, p.client_id, lv.left_at AS at, p.opened_at,
           CASE WHEN lv.kind = 'lost' THEN 0 ELSE 1 END AS won,
           COALESCE(p.contract_value, 0) AS contract_value
      FROM lv JOIN journey_project p ON p.id = lv.project_id
     WHERE lv.phase = 'assess'
),
samples AS (  -- one duration per project and median metric, in days
    SELECT 'time_to_decision_days' AS key, project_id, at,
           (EXTRACT(EPOCH FROM at) - EXTRACT(EPOCH FROM opened_at)) / 86400 AS x
      FROM decided
    UNION ALL
    SELECT 'phase_duration_days.' || phase, project_id, left_at,
           (EXTRACT(EPOCH FROM left_at) - EXTRACT(EPOCH FROM stay_start)) / 86400
      FROM lv
    UNION ALL
    SELECT 'time_to_kickoff_days', project_id, at,
           (EXTRACT(EPOCH FROM at) - EXTRACT(EPOCH FROM stay_start)) / 86400
      FROM kickoff
),
medians AS (
    SELECT pd.org, s.key, pd.dim, pd.val, to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM') AS period,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY s.x::float8) AS value,
           NULL::float8 AS numerator, NULL::float8 AS denominator, count(*) AS n,
           false AS provisional
      FROM samples s JOIN pd ON pd.project_id = s.project_id
     GROUP BY pd.org, s.key, pd.dim, pd.val, to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM')
),
completions AS (
    -- Repeat business: the client's next won decision after the completion, within 365 days.
    -- One sort per client instead of a join: the completed project's own decision precedes its
    -- completion, so the next win after it is always another project's; a win at the very
    -- instant of the completion sorts before it and does not count ("after").
    SELECT project_id, at,
           CASE WHEN next_win <= at + interval '365 days' THEN 1 ELSE 0 END AS hit,
           %(now)s::timestamptz - at < interval '365 days' AS provisional
      FROM (SELECT project_id, at, is_completion,
                   min(CASE WHEN is_completion = 0 THEN at END)
                       OVER (PARTITION BY client_id ORDER BY at, is_completion
                             ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_win
              FROM (SELECT lv.project_id, p.client_id, lv.left_at AS at, 1 AS is_completion
                      FROM lv JOIN journey_project p ON p.id = lv.project_id
                     WHERE lv.phase = 'close_out' AND lv.kind = 'completed'
                    UNION ALL
                    SELECT project_id, client_id, at, 0 FROM decided WHERE won = 1) both_kinds
           ) ordered
     WHERE is_completion = 1
),
events AS (  -- per-project events of the rate and mean metrics: (key, project, at, hit, scale)
    SELECT 'win_rate' AS key, project_id, at, won AS hit, 1 AS scale, false AS provisional
      FROM decided
    UNION ALL
    SELECT 'on_time_milestone_rate', project_id, completed_at,
           CASE WHEN (completed_at AT TIME ZONE 'UTC')::date <= due_date THEN 1 ELSE 0 END, 1, false
      FROM journey_milestone WHERE completed_at IS NOT NULL
    UNION ALL
    SELECT 'csat_avg', project_id, responded_at, score, 1, false
      FROM journey_feedback WHERE kind = 'csat' AND score IS NOT NULL
    UNION ALL
    SELECT 'nps', project_id, responded_at,
           CASE WHEN score >= 9 THEN 1 WHEN score <= 6 THEN -1 ELSE 0 END, 100, false
      FROM journey_feedback WHERE kind = 'nps' AND score IS NOT NULL
    UNION ALL
    SELECT 'repeat_business_rate', project_id, at, hit, 1, provisional FROM completions
),
rates AS (
    SELECT pd.org, e.key, pd.dim, pd.val, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM') AS period,
           max(e.scale) * sum(e.hit)::float8 / count(*) AS value, sum(e.hit)::float8 AS numerator,
           count(*)::float8 AS denominator, count(*) AS n, bool_or(e.provisional) AS provisional
      FROM events e JOIN pd ON pd.project_id = e.project_id
     GROUP BY pd.org, e.key, pd.dim, pd.val, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM')
),
touches AS (
    SELECT org, dim, val, period, count(*) AS touches,
           count(*) FILTER (WHERE senior) AS senior
      FROM (SELECT pd.org, pd.dim, pd.val, date_trunc('month', t.at AT TIME ZONE 'UTC') AS period,
                   t.senior_leader_present AS senior
              FROM journey_touchpoint t JOIN pd ON pd.project_id = t.project_id
            UNION ALL
            SELECT cd.org, cd.dim, cd.val, date_trunc('month', t.at AT TIME ZONE 'UTC'),
                   t.senior_leader_present
              FROM journey_touchpoint t JOIN cd ON cd.client_id = t.client_id
             WHERE t.project_id IS NULL) tp
     GROUP BY org, dim, val, period
),
active AS (  -- clients with a project open in the month, per dimension value
    SELECT pd.org, pd.dim, pd.val, m.month AS period, count(DISTINCT pd.client_id) AS clients
      FROM journey_project p
      JOIN pd ON pd.project_id = p.id
      LEFT JOIN (SELECT project_id, min(at) AS ended_at FROM journey_phasetransition
                  WHERE to_status IN ('lost', 'completed', 'cancelled') GROUP BY project_id) e
        ON e.project_id = p.id
     CROSS JOIN LATERAL generate_series(
           date_trunc('month', p.opened_at AT TIME ZONE 'UTC'),
           COALESCE(date_trunc('month', e.ended_at AT TIME ZONE 'UTC'),
                    date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC')),
           interval '1 month') AS m(month)
     GROUP BY pd.org, pd.dim, pd.val, m.month
),
touch_rates AS (
    SELECT t.org, 'touchpoints_per_active_client' AS key, t.dim, t.val,
           to_char(t.period, 'YYYY-MM') AS period, t.touches::float8 / a.clients AS value,
           t.touches::float8 AS numerator, a.clients::float8 AS denominator, t.touches AS n,
           false AS provisional
      FROM touches t
      JOIN active a ON a.org = t.org AND a.dim = t.dim AND a.val = t.val AND a.period = t.period
    UNION ALL
    SELECT org, 'senior_touch_rate', dim, val, to_char(period, 'YYYY-MM'),
           senior::float8 / touches, senior::float8, touches::float8, touches, false
      FROM touches
),
won_by_dim AS (  -- client lifetime value: won contract values per dimension value and month
    SELECT pd.org, pd.dim, pd.val, pd.client_id,
           date_trunc('month', d.at AT TIME ZONE 'UTC') AS month, d.contract_value
      FROM decided d JOIN pd ON pd.project_id = d.project_id
     WHERE d.won = 1
),
clv_steps AS (
    SELECT org, dim, val, month, sum(contract_value) AS value, 0 AS clients
      FROM won_by_dim GROUP BY org, dim, val, month
    UNION ALL
    SELECT org, dim, val, month, 0, count(*)
      FROM (SELECT org, dim, val, client_id, min(month) AS month
              FROM won_by_dim GROUP BY org, dim, val, client_id) firsts
     GROUP BY org, dim, val, month
),
clv AS (
    SELECT g.org, g.dim, g.val, m.month,
           sum(COALESCE(s.value, 0)) OVER w AS total, sum(COALESCE(s.clients, 0)) OVER w AS clients
      FROM (SELECT org, dim, val, min(month) AS first_month FROM won_by_dim
             GROUP BY org, dim, val) g
     CROSS JOIN LATERAL generate_series(
           g.first_month, date_trunc('month', %(now)s::timestamptz AT TIME ZONE 'UTC'),
           interval '1 month') AS m(month)
      LEFT JOIN (SELECT org, dim, val, month, sum(value) AS value, sum(clients) AS clients
                   FROM clv_steps GROUP BY org, dim, val, month) s
        ON s.org = g.org AND s.dim = g.dim AND s.val = g.val AND s.month = m.month
    WINDOW w AS (PARTITION BY g.org, g.dim, g.val ORDER BY m.month)
)
SELECT org AS organization_id, key, dim AS dimension, val AS dimension_value, period, value,
       numerator, denominator, n, provisional
  FROM medians
UNION ALL
SELECT org, key, dim, val, period, value, numerator, denominator, n, provisional FROM rates
UNION ALL
SELECT org, key, dim, val, period, value, numerator, denominator, n, provisional FROM touch_rates
UNION ALL
SELECT org, 'client_lifetime_value', dim, val, to_char(month, 'YYYY-MM'),
       total::float8 / clients, total::float8, clients::float8, clients, false
  FROM clv WHERE clients > 0
