/**
 * `minutes-publisher`: reads the configuration, starts consuming and stops gracefully on
 * SIGTERM/SIGINT. A bad configuration or an unreachable NATS/database stops it at start with
 * one clear line and exit code 1.
 */
import { setFlagsFromString } from "node:v8";
import { readProcessSettings } from "./config.js";
import { startPublisher } from "./Publisher.js";

// Memory flags (apps/publisher/README.md, Memory). The documented start commands
// (docker-compose.yml, `pnpm start`, the README, the demo and benchmark child:
// PUBLISHER_NODE_FLAGS) pass all four on the command line. The two below are also set here, for
// a publisher started without them: Node 20 and 22 apply them at run time, but Node 24's V8 took
// `--liftoff-only` only from the command line (set here, llhttp's peak malloced memory stayed at
// 37 MB there; 17 MB from the command line).
// - V8's default sizing lets old-generation garbage grow to about 4x the live heap before a full
//   collection (340+ MB RSS on a roomy host). The old generation is collected at 1.1x its live
//   size instead.
// - HTTP responses are parsed by undici's llhttp, a WebAssembly module. Once its functions are hot,
//   V8 recompiles them with TurboFan, and that compilation briefly mallocs 35-45 MB outside the
//   heap (V8's peak malloced memory: 39 MB after a few hundred requests, 4-5 MB with this flag).
//   It came as the first burst of protocols arrived, while the heap grew: it made the peak RSS.
//   The baseline code costs nothing that CPU time shows (82-87 us per small JSON request with it,
//   79-82 without, client and server together).
// Two more flags only work on the command line: `--no-concurrent-marking` and
// `--max-semi-space-size=16`. Without the former, on two busy cores the background marking fell
// behind the allocation in about two runs of five, and V8 let the old generation grow past its
// limit meanwhile: 255-265 MB peak instead of 190. Marking in steps on the main thread keeps pace
// with what it allocates, but then every object promoted to the old generation costs the main
// thread: 16 MB semi-spaces (V8's default on 64-bit Node 20, given so that other versions do the
// same) promote less of micromark's short-lived garbage than 8 did, for about 12 % more protocols
// per second and about 20 MB more RSS. With all four the benchmark's peak RSS is 190-198 MB.
setFlagsFromString("--heap-growing-percent=10");
setFlagsFromString("--liftoff-only");

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
