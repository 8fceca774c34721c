-- FastChat initial schema.
--
-- Applied once by db/migrate.ts inside a transaction; never edit this file
-- after it has shipped (its checksum is recorded in schema_migrations):
-- add a new NNNN_name.sql file and list it in db/migrations.ts instead.

-- Accounts. The server never learns the password: it stores a scrypt hash of
-- the client-derived auth key plus the public material clients need.
CREATE TABLE users (
  username       text PRIMARY KEY,
  auth_hash      bytea NOT NULL,      -- server-side scrypt of the client's auth key
  auth_salt      bytea NOT NULL,
  auth_params    text  NOT NULL,      -- e.g. 'scrypt:N=16384,r=8,p=1'
  kdf_salt       bytea NOT NULL,      -- client PBKDF2 salt (public)
  kdf_iterations integer NOT NULL,
  enc_key        bytea NOT NULL,      -- RSA-OAEP SPKI
  sign_key       bytea NOT NULL,      -- Ed25519 raw public key
  key_backup     bytea NOT NULL,      -- private keys sealed under a key the server never sees
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- Login sessions (resume tokens); only a hash of the secret is stored.
CREATE TABLE sessions (
  id          text PRIMARY KEY,
  username    text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
  secret_hash bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_username_idx ON sessions (username);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- End-to-end encrypted messages, queued until the recipient acknowledges them.
CREATE TABLE messages (
  seq          bigserial PRIMARY KEY,
  id           text NOT NULL,
  sender       text NOT NULL,
  recipient    text NOT NULL,
  kind         smallint NOT NULL,
  body         bytea NOT NULL,
  sent_at      bigint NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (sender, id)
);
CREATE INDEX messages_pending_idx ON messages (recipient, seq) WHERE delivered_at IS NULL;

-- Conversation keys wrapped for a recipient, addressed by key id.
CREATE TABLE key_envelopes (
  recipient  text NOT NULL,
  kid        text NOT NULL,
  sender     text NOT NULL,
  envelope   bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (recipient, kid)
);

-- Delivery receipts waiting for the original sender.
CREATE TABLE receipts (
  username   text NOT NULL,   -- the original sender, who gets the receipt
  peer       text NOT NULL,   -- who received the message
  message_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (username, peer, message_id)
);
