// A nats-server of the test's own, on a free port with its store in a temp dir, for tests that
// stop NATS or wipe its data: the machine's shared server must never be restarted or wiped.
// `stop` + `wipe` + `start` is a NATS restarted without its JetStream data, on the same port.
// Plain JS (like preset.js) so it loads unbuilt from every package's tests; types in nats-server.d.ts.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";

/**
 * @param {import("./nats-server.js").NatsServerOptions} [options]
 * @returns {Promise<import("./nats-server.js").NatsServer>}
 */
export const startNatsServer = async (options = {}) => {
  const binary = natsServerBinary();
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "minutes-nats-"));
  const store = join(dir, "jetstream");
  /** @type {import("node:child_process").ChildProcess | undefined} */
  let child;

  const start = async () => {
    const auth = options.auth === undefined ? [] : ["--user", options.auth.user, "--pass", options.auth.pass];
    const started = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store, ...auth], {
      stdio: "ignore",
    });
    child = started;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`nats-server exited at start (${started.exitCode})`);
      try {
        const nc = await connect({ servers: url, reconnect: false, timeout: 1_000, ...options.auth });
        await nc.close();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`nats-server did not answer on ${url}: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGTERM");
    await exited;
  };

  await start();
  return {
    url,
    stop,
    wipe: () => rmSync(store, { recursive: true, force: true }),
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

// internal

const natsServerBinary = () => {
  for (const candidate of ["/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server"]) {
    if (existsSync(candidate)) return candidate;
  }
  const found = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" }).stdout.trim();
  if (found === "") throw new Error("these tests need a nats-server binary (apt-get install nats-server)");
  return found;
};

/** @returns {Promise<number>} */
const freePort = async () => {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no free TCP port");
  return address.port;
};
