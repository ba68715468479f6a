// A separate writer process for the concurrency test: loads the package, prints "ready", waits
// for "go" on stdin (so several writers start together), then saves `count` tokens one by one.
// Usage: tsx add-entries.ts <vault file> <username prefix> <count>
import { createInterface } from "node:readline";
import { Redacted } from "effect";
import { saveEncryptedToken } from "../../src/index.js";

const [file, prefix, count] = process.argv.slice(2);
if (file === undefined || prefix === undefined || count === undefined) {
  process.stderr.write("usage: add-entries <file> <prefix> <count>\n");
  process.exit(2);
}
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write("ready\n");
await lines.next();
for (let i = 0; i < Number(count); i++) {
  await saveEncryptedToken({
    file,
    kdf: { N: 1024, r: 8, p: 1 },
    url: "https://example.com/wiki",
    username: `${prefix}-${i}`,
    token: Redacted.make(`token-${prefix}-${i}`),
    password: Redacted.make("shared password"),
  });
}
process.stdout.write("done\n");
process.exit(0);
