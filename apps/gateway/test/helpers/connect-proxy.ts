/**
 * A real CONNECT forward proxy on a random local port that requires `Proxy-Authorization: Basic`
 * for `user:password` and answers 407 otherwise; it counts the tunnels it opened.
 */
import { createServer } from "node:http";
import { connect, type Socket } from "node:net";

export interface ConnectProxy {
  /** `http://127.0.0.1:PORT`, without credentials. */
  readonly url: string;
  /** The same URL with `user:password@` (URL-encoded). */
  readonly urlWith: (user: string, password: string) => string;
  readonly stats: { tunnels: number; refused: number };
  readonly close: () => Promise<void>;
}

export const startConnectProxy = async (auth: string): Promise<ConnectProxy> => {
  const stats = { tunnels: 0, refused: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("connect", (req, client: Socket, head: Buffer) => {
    const got = req.headers["proxy-authorization"] ?? "";
    if (got !== `Basic ${Buffer.from(auth).toString("base64")}`) {
      stats.refused++;
      // Echoes what it got, as a careless proxy might: the gateway must not pass that on.
      client.end(`HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: ${got.length}\r\n\r\n${got}`);
      return;
    }
    stats.tunnels++;
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host ?? "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    urlWith: (user, password) =>
      `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};
