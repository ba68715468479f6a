// The first connection of an app to the servers of `nats.url`. Both apps start with it, so a NATS
// that cannot be reached stops either with the same one line naming NATS and the servers; the
// URLs are shown without `user:password@` or a token, which a NATS URL may carry.
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node";

/** The servers of a `nats.url` value: comma-separated, surrounding blanks ignored. */
export const natsServers = (url: string): Array<string> =>
  url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/**
 * A `nats.url` value as it may be shown in logs and messages: each server as `scheme://host:port`,
 * without user info (`nats://user:password@…`, `nats://token@…`), path or query. A server that
 * does not parse is shown as a placeholder, since it may still hold a credential.
 */
export const natsUrlForDisplay = (url: string): string =>
  natsServers(url)
    .map((server) => {
      const withScheme = server.includes("://") ? server : `nats://${server}`;
      if (!URL.canParse(withScheme)) return "(not a NATS URL)";
      const parsed = new URL(withScheme);
      return `${parsed.protocol}//${parsed.host}`;
    })
    .join(",");

/**
 * Connects to the servers of `url` (a `nats.url` value) with `options`. When none can be reached,
 * rejects with an `Error` whose message is one line naming NATS, the servers (see
 * {@link natsUrlForDisplay}) and the reason, e.g.
 * `cannot connect to NATS at nats://127.0.0.1:4999: connection refused`.
 */
export const connectNats = async (
  url: string,
  options: Omit<ConnectionOptions, "servers"> = {},
): Promise<NatsConnection> => {
  const servers = natsServers(url);
  try {
    return await connect({ ...options, servers });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot connect to NATS at ${natsUrlForDisplay(url)}: ${scrub(reason, servers)}`, {
      cause: error,
    });
  }
};

// internal

/** Blanks the servers' user info out of a reason, should the client ever repeat a URL. */
const scrub = (text: string, servers: ReadonlyArray<string>): string => {
  let out = text;
  for (const server of servers) {
    const userInfo = /^[^:/]+:\/\/([^@/]+)@/.exec(server)?.[1];
    if (userInfo !== undefined)
      out = out.replaceAll(server, natsUrlForDisplay(server)).replaceAll(userInfo, "***");
  }
  return out;
};
