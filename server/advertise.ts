/**
 * The addresses a chat server publishes in the registry, from its flags:
 * where clients (sent by load balancers) and peer servers dial it. They
 * differ from the bind addresses when the server listens on every interface
 * (`0.0.0.0` cannot be dialled) or sits behind NAT or a port mapping
 * (`--advertise 203.0.113.7:443` for a server bound to `10.0.0.5:7701`).
 *
 * - clients: `--advertise host:port`, else `--advertise-host` with the bound
 *   port, else the bind host (loopback for a bind-all host);
 * - peers: `--advertise-peer host:port`, else an explicit, specific
 *   `--peer-host` (the peer listener is bound there, maybe on another
 *   network than the clients'), else the client host; the port is the bound
 *   peer port unless `--advertise-peer` names one.
 *
 * @example
 * ```ts
 * import { advertisedAddresses } from "@fastchat/server/advertise";
 * advertisedAddresses({ host: "0.0.0.0", advertise: "chat.example.org:443" });
 * // { advertiseHost: "chat.example.org", advertisePort: 443, advertisePeer: { host: "chat.example.org" } }
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { parseHostPort } from "@fastchat/lib/host_port";

/** The address flags of `server/main.ts` (undefined: not given). */
export interface AddressFlags {
  /** `--host`: the client listener's bind address. */
  host: string;
  /** `--advertise host:port`. */
  advertise?: string;
  /** `--advertise-host H` (the bound port is published with it). */
  advertiseHost?: string;
  /** `--peer-host H`: the peer listener's bind address, when given. */
  peerHost?: string;
  /** `--advertise-peer host:port`. */
  advertisePeer?: string;
}

/** What `ChatServer.start`'s `cluster` option takes (see {@link advertisedAddresses}). */
export interface AdvertisedAddresses {
  advertiseHost: string;
  /** Undefined: the bound port. */
  advertisePort?: number;
  /** The peer host, and its port when it is not the bound one. */
  advertisePeer: { host: string; port?: number };
}

const isWildcard = (h: string) => h === "0.0.0.0" || h === "::" || h === "[::]";

function dialable(host: string, flag: string): string {
  if (isWildcard(host)) {
    throw new FastChatError("INVALID_CONFIG", `${flag} ${host} cannot be dialled; name an address`);
  }
  return host;
}

/**
 * Resolves the published addresses; `INVALID_CONFIG` for a malformed
 * `host:port`, `--advertise` together with `--advertise-host`, or a
 * bind-all address given to be advertised.
 *
 * @example
 * ```ts
 * import { advertisedAddresses } from "@fastchat/server/advertise";
 * advertisedAddresses({ host: "10.0.0.5", peerHost: "10.9.0.5" });
 * // { advertiseHost: "10.0.0.5", advertisePort: undefined, advertisePeer: { host: "10.9.0.5" } }
 * ```
 */
export function advertisedAddresses(flags: AddressFlags): AdvertisedAddresses {
  if (flags.advertise !== undefined && flags.advertiseHost !== undefined) {
    throw new FastChatError(
      "INVALID_CONFIG",
      "--advertise host:port replaces --advertise-host; give one of them",
    );
  }
  const client = flags.advertise !== undefined
    ? parseHostPort(flags.advertise, "--advertise")
    : undefined;
  const advertiseHost = client
    ? dialable(client.host, "--advertise")
    : flags.advertiseHost !== undefined
    ? dialable(flags.advertiseHost, "--advertise-host")
    : isWildcard(flags.host)
    ? "127.0.0.1"
    : flags.host;
  let advertisePeer: { host: string; port?: number };
  if (flags.advertisePeer !== undefined) {
    const p = parseHostPort(flags.advertisePeer, "--advertise-peer");
    advertisePeer = { host: dialable(p.host, "--advertise-peer"), port: p.port };
  } else if (flags.peerHost !== undefined && !isWildcard(flags.peerHost)) {
    advertisePeer = { host: flags.peerHost };
  } else {
    advertisePeer = { host: advertiseHost };
  }
  return { advertiseHost, advertisePort: client?.port, advertisePeer };
}
