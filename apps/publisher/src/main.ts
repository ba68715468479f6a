/**
 * `minutes-publisher`: reads the configuration, starts consuming and stops gracefully on
 * SIGTERM/SIGINT. A bad configuration or an unreachable NATS/database stops it at start with
 * one clear line and exit code 1.
 */
import { setFlagsFromString } from "node:v8";
import { readProcessSettings } from "./config.js";
import { startPublisher } from "./Publisher.js";

// V8's default sizing lets old-generation garbage grow to about 4x the live heap before a full
// collection (340+ MB RSS on a roomy host). A 1.2x growth factor collects at about 180 MB peak on
// the benchmark, with no CPU cost that run-to-run noise shows (1.5x: about 190 MB). Set here, not
// on the command line, so every way of starting the publisher (Docker, systemd, the demo) gets it.
// Two more flags only work on the command line, so the documented start commands pass them:
// `--max-semi-space-size=8` (16 MB of semi-spaces instead of 32; ~18 MB less RSS, a few % more CPU
// in scavenges) and `--no-concurrent-marking`. Without the latter, on two busy cores the
// background marking fell behind the allocation in about two runs of five, and V8 let the old
// generation grow past its limit meanwhile: 255-265 MB peak instead of 190. Marking in steps on
// the main thread keeps pace with what it allocates, for 0-20 % fewer protocols per second there
// (apps/publisher/README.md, Memory).
setFlagsFromString("--heap-growing-percent=20");

const settings = readProcessSettings();
try {
  const publisher = await startPublisher({
    config: settings.config,
    defaultVaultFile: settings.defaultVaultFile,
    proxy: settings.proxy,
  });
  const shutdown = (signal: string) => {
    // Said in the publisher's own (JSON) log, not as a plain line among its lines.
    publisher.stop(signal).then(
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
