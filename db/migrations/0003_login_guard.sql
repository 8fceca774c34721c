-- Login guard: a server-wide secret (fake KDF parameters for unknown users
-- are derived from it, identical on every server of the cluster) and windowed
-- counters of failed logins shared by all servers.

CREATE TABLE server_secrets (
  name       text PRIMARY KEY,
  secret     bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE login_failures (
  scope        text NOT NULL,          -- 'user_addr' or 'addr'
  key          text NOT NULL,          -- "<user>\n<addr>" or "<addr>"
  window_start timestamptz NOT NULL,
  failures     integer NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX login_failures_window_idx ON login_failures (window_start);
