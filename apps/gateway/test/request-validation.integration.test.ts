// What every route answers to a request it cannot take: unknown fields and parameters, values of
// the wrong kind, loose ids, reversed time windows, bodies nested too deeply, bodies that are not
// UTF-8 or not JSON, wrong media types and bad URLs — each a 4xx problem+json naming what to fix,
// never a 500 and never a silent default.
import { publishRequestedPrefix } from "@minutes/contracts";
import { PUBLICATION_LIST_DEFAULT_LIMIT, PUBLICATION_LIST_MAX_LIMIT } from "@minutes/contracts/api";
import { QUERY_DEFAULT_LIMIT, QUERY_MAX_LIMIT } from "@minutes/publication-store";
import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, protocolBody, startHarness, unique } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>;
}

const call = async (
  harness: Harness,
  method: "GET" | "POST" | "DELETE",
  url: string,
  payload?: unknown,
): Promise<{ status: number; type: string; body: Problem }> => {
  const res = await harness.app.inject({
    method,
    url,
    headers: harness.auth,
    ...(payload === undefined
      ? {}
      : typeof payload === "string"
        ? { payload, headers: { ...harness.auth, "content-type": "application/json" } }
        : { payload: payload as object }),
  });
  return { status: res.statusCode, type: String(res.headers["content-type"]), body: res.json() };
};

const messagesInStream = async (harness: Harness): Promise<number> =>
  (await harness.ctx.jsm.streams.info(harness.ctx.streams.protocol)).state.messages;

const commandsInStream = async (harness: Harness): Promise<number> => {
  const info = await harness.ctx.jsm.streams.info(harness.ctx.streams.protocol, {
    subjects_filter: `${publishRequestedPrefix(harness.config.nats.subject_prefix)}.>`,
  });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
};

describe("unknown fields", () => {
  it("refuses a misspelt body field on every route with a body, suggesting the spelling meant", async () => {
    h = await startHarness();
    const stored = await call(h, "POST", "/api/protocols", protocolBody(`job-${unique()}`));
    expect(stored.status).toBe(202);

    // A replay whose dryRun is misspelt would have been a real replay of the stored protocol.
    const replay = await call(h, "POST", "/api/replays", {
      since: "2020-01-01T00:00:00Z",
      dryrun: true,
    });
    expect(replay.status).toBe(400);
    expect(replay.type).toMatch(/^application\/problem\+json/);
    expect(replay.body.errors).toEqual([
      { path: "dryrun", message: 'unknown field; did you mean "dryRun"?' },
    ]);
    expect(replay.body.detail).toBe(
      'the request body does not match its schema (dryrun: unknown field; did you mean "dryRun"?)',
    );
    expect(await commandsInStream(h)).toBe(0);

    const protocol = await call(
      h,
      "POST",
      "/api/protocols",
      protocolBody(`job-${unique()}`, { spacekey: "TEAM", parent_page_id: "42", colour: "red" }),
    );
    expect(protocol.status).toBe(400);
    expect(protocol.body.errors).toEqual([
      { path: "spacekey", message: 'unknown field; did you mean "spaceKey"?' },
      { path: "parent_page_id", message: 'unknown field; did you mean "parentPageId"?' },
      { path: "colour", message: "unknown field" },
    ]);
    expect(protocol.body.detail).toMatch(/\(spacekey: unknown field; .* and 2 more\)$/);
    expect(await messagesInStream(h)).toBe(1);

    // Validation comes before the publisher is asked, so no responder is needed here.
    const archive = await call(h, "POST", "/api/archive/run", { olderthandays: 1 });
    expect(archive.status).toBe(400);
    expect(archive.body.errors).toEqual([
      { path: "olderthandays", message: 'unknown field; did you mean "olderThanDays"?' },
    ]);

    // A cleanup whose dryRun is misspelt would have deleted what it was asked to count.
    const store = h.store;
    const record = await Effect.runPromise(
      Effect.flatMap(store.ensurePublication({ jobId: "kept", spaceKey: "TEAM", parentPageId: null }), (r) =>
        store.transition(r.id, "failed", { errorMessage: "Confluence answered 500" }),
      ),
    );
    const cleanup = await call(h, "POST", "/api/publications/cleanup", {
      before: "2999-01-01T00:00:00Z",
      dryrun: true,
      keep_protocols: true,
    });
    expect(cleanup.status).toBe(400);
    expect(cleanup.body.errors).toEqual([
      { path: "dryrun", message: 'unknown field; did you mean "dryRun"?' },
      { path: "keep_protocols", message: 'unknown field; did you mean "keepProtocols"?' },
    ]);
    expect((await call(h, "GET", `/api/publications/${record.id}`)).status).toBe(200);
  });

  it("refuses the NUL character in a query or body field with a 400 naming it, not a database error", async () => {
    h = await startHarness();
    const list = await call(h, "GET", "/api/publications?space=TE%00AM");
    expect(list.status).toBe(400);
    expect(list.body.errors).toEqual([
      { path: "query.space", message: "must not contain the NUL character (U+0000)" },
    ]);
    const replay = await call(h, "POST", "/api/replays", {
      since: "2026-01-01T00:00:00Z",
      dryRun: true,
      spaceKey: "TEAM\u0000",
    });
    expect(replay.status).toBe(400);
    expect(replay.body.errors).toEqual([
      { path: "spaceKey", message: "must not contain the NUL character (U+0000)" },
    ]);
    expect(h.logs()).not.toContain("select");
  });

  it("refuses unknown query parameters too, so a misspelt filter or flag is not silently dropped", async () => {
    h = await startHarness();
    const list = await call(h, "GET", "/api/publications?stauts=failed&limit=5");
    expect(list.status).toBe(400);
    expect(list.body.errors).toEqual([
      { path: "query.stauts", message: 'unknown parameter; did you mean "status"?' },
    ]);
    expect(list.body.detail).toMatch(/^the query string does not match its schema/);
    const remove = await call(h, "DELETE", "/api/publications/1?deletepage=true");
    expect(remove.status).toBe(400);
    expect(remove.body.errors).toEqual([
      { path: "query.deletepage", message: 'unknown parameter; did you mean "deletePage"?' },
    ]);
    const stats = await call(h, "GET", "/api/stats?from=2026-01-01T00:00:00Z");
    expect(stats.body.errors).toEqual([{ path: "query.from", message: "unknown parameter" }]);
    const publish = await call(h, "POST", "/api/jobs/j/publish-confluence?Force=true");
    expect(publish.body.errors).toEqual([
      { path: "query.Force", message: 'unknown parameter; did you mean "force"?' },
    ]);
    expect(await commandsInStream(h)).toBe(0);
  });
});

describe("routes that take no query parameters or no body", () => {
  it("refuse any parameter, instead of ignoring it", async () => {
    h = await startHarness();
    for (const [method, url, payload] of [
      ["GET", "/api/publications/1?foo=1"],
      ["GET", "/api/jobs/j/publications?foo=1"],
      ["GET", "/api/jobs/j/versions?foo=1"],
      ["GET", "/api/export?foo=1"],
      ["GET", "/api/replays?foo=1"],
      ["GET", "/api/replays/r?foo=1"],
      ["DELETE", "/api/replays/r?foo=1"],
      ["POST", "/api/publications/1/retry?foo=1"],
      ["POST", "/api/protocols?foo=1", protocolBody(`job-${unique()}`)],
      ["POST", "/api/replays?foo=1", { since: "2020-01-01T00:00:00Z", dryRun: true }],
      ["POST", "/api/archive/run?foo=1"],
      ["POST", "/api/publications/cleanup?foo=1", { before: "2020-01-01T00:00:00Z", dryRun: true }],
    ] as const) {
      const res = await call(h, method, url, payload);
      expect(res.status, `${method} ${url}`).toBe(400);
      expect(res.type, url).toMatch(/^application\/problem\+json/);
      expect(res.body.errors, `${method} ${url}`).toEqual([
        { path: "query.foo", message: "unknown parameter" },
      ]);
    }
    const retry = await call(h, "POST", "/api/publications/1/retry?force=true");
    expect(retry.body.errors).toEqual([{ path: "query.force", message: "unknown parameter" }]);
    expect(await messagesInStream(h)).toBe(0);
  });

  it("refuse any body field, so publish-now's force is not taken from the body and dropped", async () => {
    h = await startHarness();
    const stored = await call(h, "POST", "/api/protocols", protocolBody("job-body"));
    expect(stored.status).toBe(202);
    // What a publisher that took the event and failed to publish it leaves: the stored protocol
    // (a retry publishes that one) and a failed record.
    const store = h.store;
    const record = await Effect.runPromise(
      Effect.gen(function* () {
        yield* store.saveProtocol({
          jobId: "job-body",
          markdown: "# Meeting",
          filename: "job-body.md",
          metadata: {},
          contentHash: "sha256:body",
          streamSequence: 1,
          occurredAt: "2026-11-26T10:00:00Z",
        });
        const r = yield* store.ensurePublication({ jobId: "job-body", spaceKey: "TEAM", parentPageId: null });
        return yield* store.transition(r.id, "failed", { errorMessage: "Confluence answered 500" });
      }),
    );
    for (const [method, url, field] of [
      ["POST", "/api/jobs/job-body/publish-confluence", "force"],
      ["POST", `/api/publications/${record.id}/retry`, "force"],
      ["DELETE", `/api/publications/${record.id}`, "deletePage"],
      ["DELETE", "/api/replays/r", "force"],
    ] as const) {
      const res = await call(h, method, url, { [field]: true });
      expect(res.status, `${method} ${url}`).toBe(400);
      expect(res.body.errors, `${method} ${url}`).toEqual([{ path: field, message: "unknown field" }]);
      expect(res.body.detail, url).toBe(
        `the request body does not match its schema (${field}: unknown field)`,
      );
    }
    expect(await commandsInStream(h)).toBe(0);
    expect((await call(h, "GET", `/api/publications/${record.id}`)).status).toBe(200);
    // No body, or an empty one, is what these routes take.
    expect((await call(h, "POST", `/api/publications/${record.id}/retry`, "{}")).status).toBe(202);
    expect((await call(h, "DELETE", "/api/replays/r")).status).toBe(404);
    expect(await commandsInStream(h)).toBe(1);
  });
});

describe("limit", () => {
  it("refuses more than the largest page, naming it, instead of returning a shorter page", async () => {
    h = await startHarness();
    const over = await call(h, "GET", "/api/publications?limit=1000");
    expect(over.status).toBe(400);
    expect(over.body.errors).toEqual([{ path: "query.limit", message: "is out of range: at most 500" }]);
    expect((await call(h, "GET", "/api/publications?limit=500")).status).toBe(200);
    // The contract documents the store's numbers; they must not drift apart.
    expect([PUBLICATION_LIST_DEFAULT_LIMIT, PUBLICATION_LIST_MAX_LIMIT]).toEqual([
      QUERY_DEFAULT_LIMIT,
      QUERY_MAX_LIMIT,
    ]);
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const params = doc.paths["/api/publications"].get.parameters as Array<{
      name: string;
      description?: string;
    }>;
    expect(params.find((p) => p.name === "limit")?.description).toBe(
      "Publications per page: 1–500 (default 50); a larger limit is refused",
    );
  });
});

describe("bodies as text", () => {
  const protocolJson = (markdown: string) =>
    `{"jobId":"job-text","markdown":"${markdown}","filename":"x.md","occurredAt":"2026-11-26T10:00:00Z"}`;
  const post = (harness: Harness, url: string, payload: string | Buffer, type = "application/json") =>
    harness.app.inject({ method: "POST", url, headers: { ...harness.auth, "content-type": type }, payload });

  it("refuse bytes that are not UTF-8, naming their offset, and store nothing", async () => {
    h = await startHarness();
    // ISO-8859-1 "café": used to be stored as "caf\uFFFD".
    const latin1 = Buffer.from(protocolJson("# café"), "latin1");
    const res = await post(h, "/api/protocols", latin1);
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const offset = latin1.indexOf(0xe9);
    expect(res.json().detail).toBe(
      `the body is not valid UTF-8: the bytes at offset ${offset} (e9 22 2c 22) are not a UTF-8 character; send the text as UTF-8`,
    );
    expect(await messagesInStream(h)).toBe(0);
    const utf8 = await post(h, "/api/protocols", Buffer.from(protocolJson("# café"), "utf8"));
    expect(utf8.statusCode).toBe(202);
    const imported = await post(
      h,
      "/api/import",
      Buffer.from('{"kind":"café"}\n', "latin1"),
      "application/x-ndjson",
    );
    expect(imported.statusCode).toBe(400);
    expect(imported.json().detail).toMatch(/^the body is not valid UTF-8: the bytes at offset 12 /);
  });

  it("refuse a charset other than UTF-8 with a 415 naming it", async () => {
    h = await startHarness();
    const body = Buffer.from(protocolJson("# café"), "latin1");
    const latin1 = await post(h, "/api/protocols", body, "application/json; charset=iso-8859-1");
    expect(latin1.statusCode).toBe(415);
    expect(latin1.json().detail).toBe(
      'send the body as UTF-8 (application/json with no charset, or charset=utf-8); charset "iso-8859-1" is not accepted',
    );
    const ndjson = await post(h, "/api/import", "", "application/x-ndjson; charset=windows-1252");
    expect(ndjson.statusCode).toBe(415);
    expect(ndjson.json().detail).toContain('charset "windows-1252"');
    expect(await messagesInStream(h)).toBe(0);
    const declared = await post(
      h,
      "/api/protocols",
      protocolJson("# café"),
      "application/json; charset=UTF-8",
    );
    expect(declared.statusCode).toBe(202);
  });

  it("refuse an escaped lone surrogate, naming the field, instead of publishing U+FFFD", async () => {
    h = await startHarness();
    const res = await post(h, "/api/protocols", protocolJson("# Sync \\ud800"));
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      {
        path: "markdown",
        message:
          "must not contain a lone surrogate (an unpaired \\uD800–\\uDFFF escape): it is not Unicode text",
      },
    ]);
    expect(await messagesInStream(h)).toBe(0);
    // An escaped pair is one character.
    expect((await post(h, "/api/protocols", protocolJson("# Sync \\ud83d\\ude00"))).statusCode).toBe(202);
  });

  it("say where JSON does not parse, in bytes", async () => {
    h = await startHarness();
    for (const [payload, detail] of [
      ["{not json", "the body is not valid JSON: expected property name or '}' at byte 1"],
      [
        '{"topic":"Größe" "x":1}',
        "the body is not valid JSON: expected ',' or '}' after property value at byte 19",
      ],
      ['{"jobId": x}', "the body is not valid JSON: unexpected token 'x'"],
      ['{"jobId":', "the body is not valid JSON: unexpected end of JSON input"],
    ] as const) {
      const res = await post(h, "/api/protocols", payload);
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().detail, payload).toBe(detail);
    }
    const empty = await post(h, "/api/replays", "");
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toBe(
      "the body is empty although the content type is application/json; send a JSON object",
    );
  });

  it("say that a __proto__ or constructor.prototype key is refused on purpose, not that the JSON is bad", async () => {
    h = await startHarness();
    const proto = await post(h, "/api/protocols", '{"jobId":"a","labels":[{"__proto__":{"x":1}}]}');
    expect(proto.statusCode).toBe(400);
    expect(proto.json()).toMatchObject({
      detail:
        "the body is valid JSON, but the key __proto__ is not allowed: it could change the prototype of the object that receives it",
      errors: [{ path: "labels[0].__proto__", message: "the key __proto__ is not allowed" }],
    });
    const top = await post(h, "/api/replays", '{"__proto__":{"dryRun":true}}');
    expect(top.json().errors).toEqual([{ path: "__proto__", message: "the key __proto__ is not allowed" }]);
    const ctor = await post(
      h,
      "/api/replays",
      '{"since":"2020-01-01T00:00:00Z","constructor":{"prototype":{}}}',
    );
    expect(ctor.statusCode).toBe(400);
    expect(ctor.json().errors).toEqual([
      { path: "constructor.prototype", message: "the key constructor.prototype is not allowed" },
    ]);
    // A string that only mentions the key is text like any other.
    const mention = await post(h, "/api/protocols", protocolJson('\\"__proto__\\": is refused'));
    expect(mention.statusCode).toBe(202);
  });
});

describe("bodies nested too deeply", () => {
  it("answer 400, not 500, on every JSON route", async () => {
    h = await startHarness({ overrides: { gateway: { body_limit_bytes: 4 * 1024 * 1024 } } });
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    for (const url of ["/api/protocols", "/api/replays", "/api/archive/run", "/api/publications/cleanup"]) {
      const res = await call(h, "POST", url, deep);
      expect(res.status, url).toBe(400);
      expect(res.body.errors, url).toEqual([{ path: "", message: "expected a JSON object, got an array" }]);
    }
    const inField = await call(
      h,
      "POST",
      "/api/protocols",
      `{"jobId":"a","markdown":"# x","filename":"x.md","occurredAt":"2026-11-26T10:00:00Z","labels":${deep},"topic":${deep}}`,
    );
    expect(inField.status).toBe(400);
    expect(inField.body.errors).toEqual([
      { path: "topic", message: "expected a string at most 255 character(s) long, got an array" },
      { path: "labels[0]", message: "expected a string, got an array" },
    ]);
    expect(await messagesInStream(h)).toBe(0);
  });
});

describe("messages", () => {
  it("name every allowed value of an enumeration", async () => {
    h = await startHarness();
    const status = await call(h, "GET", "/api/publications?status=bogus");
    expect(status.body.errors).toEqual([
      {
        path: "query.status",
        message:
          'expected one of "pending", "publishing", "published", "failed", "rejected", "archived", got "bogus"',
      },
    ]);
    const force = await call(h, "POST", "/api/jobs/j/publish-confluence?force=yes");
    expect(force.body.errors).toEqual([
      { path: "query.force", message: 'expected one of "true", "false", "1", "0", got "yes"' },
    ]);
    // A cleanup takes final statuses only: a record pending or publishing is never deleted.
    const cleanup = await call(h, "POST", "/api/publications/cleanup", {
      before: "yesterday",
      statuses: ["failed", "publishing"],
    });
    expect(cleanup.status).toBe(400);
    expect(cleanup.body.errors).toEqual([
      { path: "before", message: 'expected an ISO 8601 timestamp with time zone, got "yesterday"' },
      {
        path: "statuses[1]",
        message: 'expected one of "published", "failed", "rejected", "archived", got "publishing"',
      },
    ]);
    const noCutoff = await call(h, "POST", "/api/publications/cleanup", { statuses: [] });
    expect(noCutoff.body.errors).toEqual([
      { path: "before", message: "is missing" },
      { path: "statuses", message: expect.stringContaining("at least 1") },
    ]);
  });

  it("say 'a JSON object' for a body of another kind, and name the part of the request", async () => {
    h = await startHarness();
    for (const [payload, got] of [
      ["[]", "an array"],
      ['"text"', '"text"'],
      ["42", "42"],
      ["null", "null"],
    ] as const) {
      const res = await call(h, "POST", "/api/protocols", payload);
      expect(res.status, payload).toBe(400);
      expect(res.body.errors, payload).toEqual([{ path: "", message: `expected a JSON object, got ${got}` }]);
    }
    const params = await call(h, "GET", "/api/publications/abc");
    expect(params.body.detail).toMatch(/^the path parameters do not match their schema/);
    expect(params.body.errors?.[0]?.path).toBe("params.id");
  });

  it("keep long values short in messages", async () => {
    h = await startHarness();
    const res = await call(h, "POST", "/api/protocols", protocolBody("a", { topic: "t".repeat(10_000) }));
    expect(res.status).toBe(400);
    const [issue] = res.body.errors ?? [];
    expect(issue?.path).toBe("topic");
    expect(issue?.message.length).toBeLessThan(200);
    expect(issue?.message).toMatch(/at most 255 character.*10000 characters/);
  });

  it("state the accepted media type on 415 and the limit on 413", async () => {
    h = await startHarness({ overrides: { gateway: { body_limit_bytes: 2_048 } } });
    const media = await h.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: { ...h.auth, "content-type": "application/xml" },
      payload: "<since/>",
    });
    expect(media.statusCode).toBe(415);
    expect(media.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(media.json().detail).toBe('send the body as application/json (got "application/xml")');
    const big = await call(h, "POST", "/api/protocols", protocolBody("big", { markdown: "x".repeat(4_000) }));
    expect(big.status).toBe(413);
    expect(big.body.detail).toBe("the request body is larger than the 2048 bytes this route accepts");
  });

  it("answer problem+json to a bad percent-escape in the URL", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "GET",
      url: "/api/jobs/%E0%A4%A/publications",
      headers: h.auth,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      type: "urn:minutes:problem:invalid-request",
      title: "Invalid request",
      status: 400,
      detail: "the URL is not valid: a percent-escape (%XX) in its path does not decode",
      instance: "/api/jobs/%E0%A4%A/publications",
    });
    expect(res.headers["x-request-id"]).toBeDefined();
  });
});

describe("ids", () => {
  it("are plain decimal digits in range", async () => {
    h = await startHarness();
    for (const id of ["0x10", "%2016", "1e3", "16.0", "+16", "-1", "0"]) {
      const res = await call(h, "GET", `/api/publications/${id}`);
      expect(res.status, id).toBe(400);
      expect(res.body.errors?.[0]?.path, id).toBe("params.id");
    }
    const hex = await call(h, "GET", "/api/publications/0x10");
    expect(hex.body.errors?.[0]?.message).toBe('expected a whole number in decimal digits, got "0x10"');
    const huge = await call(h, "GET", "/api/publications/99999999999999999999999");
    expect(huge.body.errors).toEqual([{ path: "params.id", message: "is out of range: at most 2147483647" }]);
    expect((await call(h, "GET", "/api/publications/16")).status).toBe(404);
    expect((await call(h, "GET", "/api/publications/0016")).status).toBe(404);
    const limit = await call(h, "GET", "/api/publications?limit=1e3");
    expect(limit.body.errors?.[0]?.path).toBe("query.limit");
  });
});

describe("time windows", () => {
  it("refuse an until that is not after since on every route that takes both, naming both", async () => {
    h = await startHarness();
    const since = "2026-11-02T00:00:00Z";
    const until = "2026-11-01T00:00:00Z";
    const expected = {
      path: "query.until",
      message: `must be after since: until ${until} is not after since ${since}`,
    };
    const list = await call(h, "GET", `/api/publications?since=${since}&until=${until}`);
    expect(list.status).toBe(400);
    expect(list.body.errors).toEqual([expected]);
    const stats = await call(h, "GET", `/api/stats?since=${since}&until=${until}`);
    expect(stats.status).toBe(400);
    expect(stats.body.errors).toEqual([expected]);
    const replay = await call(h, "POST", "/api/replays", { since, until });
    expect(replay.status).toBe(400);
    expect(replay.body.errors).toEqual([{ ...expected, path: "until" }]);
    const same = await call(h, "GET", `/api/stats?since=${since}&until=${since}`);
    expect(same.status).toBe(400);
    expect((await call(h, "GET", `/api/stats?since=${until}&until=${since}`)).status).toBe(200);
  });

  it("hint that a + offset must be sent as %2B when it arrived as a space", async () => {
    h = await startHarness();
    const plus = await call(h, "GET", "/api/stats?since=2026-11-27T00:00:00+05:00");
    expect(plus.status).toBe(400);
    expect(plus.body.errors).toEqual([
      {
        path: "query.since",
        message:
          "expected an ISO 8601 timestamp with time zone, got \"2026-11-27T00:00:00 05:00\" (a + in a URL's query string means a space: send the offset's + as %2B)",
      },
    ]);
    expect((await call(h, "GET", "/api/stats?since=2026-11-27T00:00:00%2B05:00")).status).toBe(200);
  });
});
