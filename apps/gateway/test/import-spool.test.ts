import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeAbandonedSpools } from "../src/routes/backup.js";

const dirs: Array<string> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The id of a process that has exited. */
const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid;
  await once(child, "exit");
  if (pid === undefined) throw new Error("the child process did not start");
  return pid;
};

describe("import spools left behind", () => {
  it("are removed when the gateway that wrote them no longer runs; a running gateway's are kept", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "spools-"));
    dirs.push(tmp);
    const spool = (name: string) => {
      mkdirSync(join(tmp, name));
      writeFileSync(join(tmp, name, "import.jsonl"), '{"kind":"header"}\n');
      return join(tmp, name);
    };
    const abandoned = spool(`minutes-import-${await deadPid()}-aBc123`);
    const running = spool(`minutes-import-${process.pid}-dEf456`);
    const other = spool("minutes-import-notapid");
    expect(await removeAbandonedSpools(tmp)).toBe(1);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(running)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });
});
