-- Groups and files.
--
-- A group message (or a membership event) is stored ONCE in group_log; each
-- member it is for gets a row in group_pending until that member acknowledges
-- it. Membership lives here and is enforced by the servers: the row set of
-- group_pending is taken from group_members in the same statement that stores
-- the message, so a member added later never gets earlier messages and a
-- removed member gets nothing sent after the removal.
--
-- Files travel as encrypted chunks stored in file_chunks; file_grants says who
-- may fetch them (the recipients of the message that carried the file key)
-- and is removed per recipient once that recipient has acknowledged the file.

CREATE TABLE groups (
  name       text PRIMARY KEY,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_members (
  group_name text NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
  username   text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
  admin      boolean NOT NULL DEFAULT false,
  joined     bigserial,                 -- join order: the oldest member has the smallest
  joined_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_name, username)
);
CREATE INDEX group_members_user_idx ON group_members (username);

CREATE TABLE group_log (
  seq        bigserial PRIMARY KEY,
  group_name text NOT NULL,
  sender     text NOT NULL,             -- author; for membership events the actor
  id         text NOT NULL,
  kind       smallint NOT NULL,
  body       bytea NOT NULL,            -- ciphertext; for events the server's event record
  sent_at    bigint NOT NULL,
  stored_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sender, id)
);
CREATE INDEX group_log_stored_idx ON group_log (stored_at);

CREATE TABLE group_pending (
  username text NOT NULL,
  seq      bigint NOT NULL REFERENCES group_log(seq) ON DELETE CASCADE,
  PRIMARY KEY (username, seq)
);
CREATE INDEX group_pending_seq_idx ON group_pending (seq);

CREATE TABLE files (
  id         text PRIMARY KEY,
  owner      text NOT NULL,
  bytes      bigint NOT NULL,           -- ciphertext bytes, all chunks together
  chunks     integer NOT NULL,
  stored     integer NOT NULL DEFAULT 0,  -- chunks 0..stored-1 are in file_chunks
  sent       boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX files_expires_idx ON files (expires_at);
CREATE INDEX files_owner_idx ON files (owner);

CREATE TABLE file_chunks (
  file_id text NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  idx     integer NOT NULL,
  data    bytea NOT NULL,
  PRIMARY KEY (file_id, idx)
);

CREATE TABLE file_grants (
  file_id  text NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  username text NOT NULL,
  sender   text NOT NULL,               -- the (sender, message id) whose ack ends the grant
  msg_id   text NOT NULL,
  PRIMARY KEY (file_id, username)
);
CREATE INDEX file_grants_msg_idx ON file_grants (username, sender, msg_id);
