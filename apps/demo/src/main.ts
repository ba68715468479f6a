/**
 * `pnpm demo [--once] [files.md …]`: the whole pipeline on one machine. Prints each page's title
 * and view URL, then the gateway URL, API key, OpenAPI URL and sandbox URL, and serves until
 * Ctrl-C; `--once` exits 0 when every protocol was published, non-zero with the reasons otherwise.
 */
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { DemoError, runDemo } from "./demo.js";

const program = new Command("minutes-demo")
  .description(
    "Run Minutes locally: sandbox Confluence, publisher and gateway, and publish the sample protocols",
  )
  .argument("[files...]", "extra Markdown protocols to publish")
  .option("--once", "exit after publishing (0 when every protocol was published)")
  .option("--port <port>", "gateway port", "8080")
  .option("--sandbox-port <port>", "sandbox port", "8090")
  .option(
    "--confluence-url <url>",
    "publish to this Confluence instead of the sandbox (token from .demo/tokens.vault)",
  )
  .option("--username <name>", "Confluence user (e-mail on Cloud) for --confluence-url")
  .parse();

const options = program.opts<{
  once?: boolean;
  port: string;
  sandboxPort: string;
  confluenceUrl?: string;
  username?: string;
}>();
const root = fileURLToPath(new URL("../../../", import.meta.url));

try {
  const demo = await runDemo({
    root,
    natsUrl: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    files: program.args,
    once: options.once === true,
    gatewayPort: Number(options.port),
    sandboxPort: Number(options.sandboxPort),
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
