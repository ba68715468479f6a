import { describe, expect, it } from "vitest";
import { withoutNatsCredentials } from "../src/index.js";

describe("withoutNatsCredentials", () => {
  it("leaves out the user name and password or token of every server, parsable or not", () => {
    expect(withoutNatsCredentials("nats://minutes:SENTINEL@nats:4222")).toBe("nats://nats:4222");
    expect(withoutNatsCredentials("nats://a:4222, tls://SENTINEL@b:4223,c:4224")).toBe(
      "nats://a:4222, tls://b:4223,c:4224",
    );
    expect(withoutNatsCredentials("tls://u:SENTINEL@127.0.0.1:14222 x")).toBe("tls://127.0.0.1:14222 x");
    // A password holding @, a comma or a blank goes whole.
    expect(withoutNatsCredentials("nats://u:SEN@TI,NEL X@h:4222,nats://h2:4222")).toBe(
      "nats://h:4222,nats://h2:4222",
    );
    expect(withoutNatsCredentials("u:SENTINEL@h:4222,nats://h2:4222")).toBe("h:4222,nats://h2:4222");
    expect(withoutNatsCredentials("nats://127.0.0.1:4222")).toBe("nats://127.0.0.1:4222");
  });
});
