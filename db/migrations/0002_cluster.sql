-- Cluster: the live server registry, presence of online users, and the
-- load balancers' public keys (servers verify LB-signed tickets with them).

CREATE TABLE servers (
  id           text PRIMARY KEY,
  host         text NOT NULL,          -- advertised client-facing address
  port         integer NOT NULL,
  peer_host    text NOT NULL,          -- server-to-server link address
  peer_port    integer NOT NULL,
  public_key   bytea NOT NULL,         -- Ed25519; authenticates server-to-server links
  clients      integer NOT NULL DEFAULT 0,
  draining     boolean NOT NULL DEFAULT false,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX servers_heartbeat_idx ON servers (heartbeat_at);

CREATE TABLE presence (
  username  text NOT NULL,
  server_id text NOT NULL,
  sessions  integer NOT NULL,
  PRIMARY KEY (username, server_id)
);
CREATE INDEX presence_server_idx ON presence (server_id);

CREATE TABLE lb_keys (
  key_id     text PRIMARY KEY,
  public_key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
