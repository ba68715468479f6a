/**
 * `minutes-publisher`: reads the configuration, starts consuming and stops gracefully on
 * SIGTERM/SIGINT. A bad configuration or an unreachable NATS/database stops it at start with
 * one clear line and exit code 1.
 */
import { readProcessSettings } from "./config.js";
import { startPublisher } from "./Publisher.js";

const settings = readProcessSettings();
try {
  const publisher = await startPublisher({
    config: settings.config,
    defaultVaultFile: settings.defaultVaultFile,
    proxy: settings.proxy,
  });
  const shutdown = (signal: string) => {
    process.stderr.write(`minutes-publisher: ${signal}, stopping\n`);
    publisher.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
} catch (error) {
  process.stderr.write(
    `minutes-publisher: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
