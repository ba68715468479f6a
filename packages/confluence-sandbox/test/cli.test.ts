import { describe, expect, it } from "vitest";
import { banner, parseCli } from "../src/cli.js";

describe("sandbox command line", () => {
  it("defaults to port 8090 in cloud mode and accepts --mode, --port and --sqlite", () => {
    expect(parseCli([])).toEqual({ port: 8090, mode: "cloud" });
    expect(parseCli(["--mode", "datacenter", "--port", "0", "--sqlite", "/tmp/x.db"])).toEqual({
      port: 0,
      mode: "datacenter",
      sqlite: "/tmp/x.db",
    });
  });

  it("refuses an unknown mode or port, naming the option and the values it takes", () => {
    expect(() => parseCli(["--mode", "server"])).toThrow(
      "error: option '--mode <mode>' argument 'server' is invalid. must be cloud or datacenter",
    );
    expect(() => parseCli(["--port", "70000"])).toThrow(
      "error: option '--port <port>' argument '70000' is invalid. must be a port number",
    );
  });

  it("prints the base URL, the user name on Cloud only, the token and the deployment", () => {
    const user = { email: "bot@example.com", token: "t0k" };
    expect(banner("cloud", "http://127.0.0.1:8090/wiki", user)).toEqual([
      "Base URL: http://127.0.0.1:8090/wiki",
      "Username: bot@example.com",
      "Token: t0k",
      "Deployment: cloud",
    ]);
    expect(banner("datacenter", "http://127.0.0.1:8090", user)).toEqual([
      "Base URL: http://127.0.0.1:8090",
      "Token: t0k",
      "Deployment: datacenter",
    ]);
  });
});
