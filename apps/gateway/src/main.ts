/** Entry point: read the configuration, start the gateway, stop on signals. */
import { readConfig } from "./config.js";
import { startServer, stopOnSignals } from "./server.js";

const { config, proxy } = readConfig();
try {
  stopOnSignals(await startServer(config, { proxy }));
} catch (error) {
  process.stderr.write(
    `minutes-gateway: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
