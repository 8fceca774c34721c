-- The cluster's identity: servers that share a database are one cluster. One row, made with a
-- random id when the schema is first migrated; it names the cluster where several clusters share
-- something (the default NATS subject namespace of `--fabric nats`).

CREATE TABLE cluster_identity (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  id         text NOT NULL CHECK (id ~ '^[0-9a-f]{32}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO cluster_identity (id) VALUES (replace(gen_random_uuid()::text, '-', ''));
