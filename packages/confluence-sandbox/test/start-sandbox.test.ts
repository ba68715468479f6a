import { describe, expect, it } from "vitest";
import { startSandbox } from "../src/index.js";
import { sandbox } from "./helpers/sandbox.js";

describe("startSandbox", () => {
  it("reports Cloud and gateway base URLs on a random port with a bot and a human user", async () => {
    const { sb } = await sandbox({ mode: "cloud" });
    expect(sb.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sb.baseUrl).toBe(`${sb.origin}/wiki`);
    expect(sb.gatewayBaseUrl).toBe(`${sb.origin}/ex/confluence/${sb.cloudId}`);
    expect(sb.user.email).toBe("minutes-bot@example.com");
    expect(sb.users.map((u) => u.email)).toEqual(["minutes-bot@example.com", "alice@example.com"]);
    expect(sb.user.token).not.toBe(sb.users[1]?.token);
    expect(sb.state.spaces().map((s) => s.key)).toEqual(["MEETINGS"]);
  });

  it("fails to start on a port that is taken", async () => {
    const { sb } = await sandbox({ mode: "datacenter" });
    const port = Number(new URL(sb.origin).port);
    await expect(startSandbox({ mode: "datacenter", port })).rejects.toThrow(/EADDRINUSE/);
  });

  it("closes more than once without error", async () => {
    const sb = await startSandbox({ mode: "cloud" });
    await sb.close();
    await expect(sb.close()).resolves.toBeUndefined();
  });
});
