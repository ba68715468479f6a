import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { startSandbox } from "../src/index.js";
import { caller, createV2Page } from "./helpers/sandbox.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it("keeps pages, labels, properties and users across a restart with the same SQLite file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sandbox-"));
  dirs.push(dir);
  const sqliteFile = join(dir, "state.db");
  const first = await startSandbox({ mode: "cloud", sqliteFile });
  const call = caller(first);
  const page = await createV2Page(call, "Survives");
  await call("POST", `/rest/api/content/${page.body.id}/label`, {
    body: [{ prefix: "global", name: "kept" }],
  });
  await call("POST", `/api/v2/pages/${page.body.id}/properties`, { body: { key: "job", value: { id: 1 } } });
  const bob = first.addUser({ email: "bob@example.com" });
  const token = first.user.token;
  await first.close();

  const second = await startSandbox({ mode: "cloud", sqliteFile });
  try {
    expect(second.user.token).toBe(token);
    expect(second.state.page(page.body.id)?.versions[0]?.title).toBe("Survives");
    expect(second.state.labels(page.body.id).map((l) => l.name)).toEqual(["kept"]);
    expect(second.state.properties(page.body.id)[0]?.value).toEqual({ id: 1 });
    const read = await caller(second)("GET", `/api/v2/pages/${page.body.id}`, { user: bob });
    expect(read.status).toBe(200);
    const next = await createV2Page(caller(second), "After restart");
    expect(Number(next.body.id)).toBeGreaterThan(Number(page.body.id));
  } finally {
    await second.close();
  }
});
