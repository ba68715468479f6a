/**
 * `pnpm demo [--once] [files.md …]`: the whole pipeline on one machine. Prints each page's title
 * and view URL, then the gateway URL, API key, OpenAPI URL and sandbox URL, and serves until
 * Ctrl-C; `--once` exits 0 when every protocol was published, 1 with the reasons otherwise; a bad
 * command line exits 2 before anything starts.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DemoError, runDemo } from "./demo.js";
import { parseDemoArgs } from "./demo-args.js";

// Every flag is checked before anything starts; a usage error exits 2.
const parsed = parseDemoArgs(process.argv.slice(2));
if (parsed._tag === "Exit") {
  process.stdout.write(parsed.stdout);
  process.stderr.write(parsed.stderr);
  process.exit(parsed.code);
}
const options = parsed.args;
const root = fileURLToPath(new URL("../../../", import.meta.url));
// `pnpm demo` runs in apps/demo; a relative file means where the command was typed (INIT_CWD).
const cwd = process.env.INIT_CWD ?? process.cwd();

try {
  const demo = await runDemo({
    root,
    natsUrl: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    files: options.files.map((f) => resolve(cwd, f)),
    once: options.once,
    gatewayPort: options.gatewayPort,
    sandboxPort: options.sandboxPort,
    ...(options.stream !== undefined ? { stream: options.stream } : {}),
    ...(options.subjectPrefix !== undefined ? { subjectPrefix: options.subjectPrefix } : {}),
    ...(options.confluenceUrl !== undefined ? { confluenceUrl: options.confluenceUrl } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(process.env.VAULT_PASSWORD !== undefined ? { vaultPassword: process.env.VAULT_PASSWORD } : {}),
    print: (line) => process.stdout.write(`${line}\n`),
  });
  const failed = demo.results.filter((r) => r.status !== "published");
  if (options.once) {
    await demo.stop();
    if (failed.length > 0) {
      process.stderr.write(`${failed.length} of ${demo.results.length} protocols were not published\n`);
      process.exit(1);
    }
    process.exit(0);
  }
  process.stdout.write("Running; press Ctrl-C to stop.\n");
  const stop = () => {
    demo.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  process.stderr.write(
    `minutes-demo: ${error instanceof DemoError ? error.message : error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
