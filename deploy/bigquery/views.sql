-- Day-one views over the newsbeam tables. Placeholders: ${project}, ${dataset} and
-- ${articles} (the articles table; the others are ${articles}_duplicates and
-- ${articles}_dead_letters). `newsbeam bq-create-tables` fills them in and runs this
-- file; Terraform does the same with templatefile().

-- One row per article_id: the latest version. The sink's streaming inserts are
-- at-least-once and a re-run or backfill inserts an article again: read this view.
CREATE OR REPLACE VIEW `${project}.${dataset}.${articles}_latest` AS
SELECT * EXCEPT (version)
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY article_id ORDER BY fetched_at DESC) AS version
  FROM `${project}.${dataset}.${articles}`
)
WHERE version = 1;

-- One row per entity mention: every entity of every (latest) article, with its
-- canonical name, label and how often the article mentions it.
CREATE OR REPLACE VIEW `${project}.${dataset}.${articles}_entity_mentions` AS
SELECT
  a.article_id,
  a.source,
  a.language,
  a.published_at,
  e.canonical,
  e.label,
  e.text,
  e.count AS mentions
FROM `${project}.${dataset}.${articles}_latest` AS a, UNNEST(a.entities) AS e;

-- Articles per day (publish date, else fetch date), source and language.
CREATE OR REPLACE VIEW `${project}.${dataset}.${articles}_daily_counts` AS
SELECT
  DATE(COALESCE(published_at, fetched_at)) AS day,
  source,
  language,
  COUNT(*) AS articles
FROM `${project}.${dataset}.${articles}_latest`
GROUP BY day, source, language;
