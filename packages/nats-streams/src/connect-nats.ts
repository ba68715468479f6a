// The first connection of an app to the servers of `nats.url`. Both apps start with it, so a NATS
// that cannot be reached stops either with the same one line naming NATS and the servers; the
// URLs are shown without `user:password@` or a token, which a NATS URL may carry. nats.js reads
// no credentials from a server URL, so they are taken out of it and given as its options.
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
 * Connects to the servers of `url` (a `nats.url` value) with `options`. A user name and password
 * in the URL (`nats://minutes:pw@nats:4222`, percent-encoded where needed) sign in as `user` and
 * `pass`, a user name alone (`nats://s3cret@nats:4222`) as `token`; they must be the same for
 * every server that has them (nats.js signs in to each server, gossiped ones too, with one set),
 * and `options` may override them. When none can be reached,
 * rejects with an `Error` whose message is one line naming NATS, the servers (see
 * {@link natsUrlForDisplay}) and the reason, e.g.
 * `cannot connect to NATS at nats://127.0.0.1:4999: connection refused`.
 */
export const connectNats = async (
  url: string,
  options: Omit<ConnectionOptions, "servers"> = {},
): Promise<NatsConnection> => {
  const servers = natsServers(url);
  const { bare, credentials } = withoutUserInfo(servers);
  if (credentials === "differ")
    throw new Error(
      `cannot connect to NATS at ${natsUrlForDisplay(url)}: the servers carry different credentials; give them all the same user name and password (or token)`,
    );
  try {
    // Credentials of the options win over the URL's.
    return await connect({ ...credentials, ...options, servers: bare });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot connect to NATS at ${natsUrlForDisplay(url)}: ${scrub(reason, servers)}`, {
      cause: error,
    });
  }
};

// internal

/** The client's sign-in options from a server's user info. */
type Credentials = Pick<ConnectionOptions, "user" | "pass" | "token">;

/**
 * The servers without user info, and the credentials they carried (`undefined`: none; `"differ"`:
 * two servers carried different ones). A server that does not parse is left as it is: the client
 * refuses it, and messages show it as `natsUrlForDisplay` does.
 */
const withoutUserInfo = (
  servers: ReadonlyArray<string>,
): { readonly bare: Array<string>; readonly credentials: Credentials | "differ" | undefined } => {
  let credentials: Credentials | "differ" | undefined;
  let seen: string | undefined;
  const bare = servers.map((server) => {
    const withScheme = server.includes("://") ? server : `nats://${server}`;
    if (!URL.canParse(withScheme)) return server;
    const parsed = new URL(withScheme);
    if (parsed.username === "" && parsed.password === "") return server;
    const user = decoded(parsed.username);
    const pass = decoded(parsed.password);
    const own: Credentials = parsed.password === "" ? { token: user } : { user, pass };
    const key = JSON.stringify(own);
    if (seen === undefined) {
      seen = key;
      credentials = own;
    } else if (seen !== key) credentials = "differ";
    return `${parsed.protocol}//${parsed.host}`;
  });
  return { bare, credentials };
};

/** Percent-decoded text; as it is where it is not valid percent-encoding (`%zz`). */
const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

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
