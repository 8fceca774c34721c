-- The registry says how a client reaches each server: its advertised
-- client-facing address (host, port) and whether that port speaks TLS. The
-- load balancer passes the flag to the client with the ticket.

ALTER TABLE servers ADD COLUMN tls boolean NOT NULL DEFAULT false;
