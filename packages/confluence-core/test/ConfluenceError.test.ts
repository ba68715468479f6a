import { assert, describe, it } from "@effect/vitest";
import { Effect, Schema } from "effect";
import {
  ConfluenceAuthenticationError,
  ConfluenceConfigError,
  ConfluenceError,
  ConfluenceNetworkError,
  ConfluenceNotFoundError,
  ConfluencePermissionError,
  ConfluenceRateLimitedError,
  ConfluenceServerError,
  ConfluenceTitleConflictError,
  ConfluenceValidationError,
  ConfluenceVersionConflictError,
  isRetryable,
} from "../src/ConfluenceError.js";

const where = { method: "PUT", path: "/wiki/api/v2/pages/42", status: 400 };

const all = [
  new ConfluenceAuthenticationError({ ...where, status: 401 }),
  new ConfluencePermissionError({ ...where, status: 403 }),
  new ConfluenceNotFoundError({ ...where, status: 404 }),
  new ConfluenceValidationError({
    ...where,
    confluenceMessage: "Error parsing xhtml: Unexpected close tag </br>",
  }),
  new ConfluenceTitleConflictError({ ...where, title: "Weekly", spaceKey: "MEETINGS", existingPageId: "7" }),
  new ConfluenceVersionConflictError({ ...where, status: 409, currentVersion: 4 }),
  new ConfluenceRateLimitedError({ ...where, status: 429, retryAfterMs: 2_000 }),
  new ConfluenceServerError({ ...where, status: 503 }),
  new ConfluenceNetworkError({ method: "GET", path: "/wiki/rest/api/user/current", reason: "timeout" }),
] as const;

describe("ConfluenceError", () => {
  it("has a _tag equal to the class name for every error", () => {
    for (const e of all) assert.strictEqual(e._tag, e.constructor.name);
  });

  it("retries only rate limits, server errors and network errors", () => {
    const retryable = all.filter(isRetryable).map((e) => e._tag);
    assert.deepStrictEqual(retryable, [
      "ConfluenceRateLimitedError",
      "ConfluenceServerError",
      "ConfluenceNetworkError",
    ]);
  });

  it("writes English messages with method, path, status and Confluence's text", () => {
    const e = all[3];
    assert.strictEqual(
      e.message,
      "Confluence rejected the request as invalid [PUT /wiki/api/v2/pages/42 → 400]: Error parsing xhtml: Unexpected close tag </br>",
    );
  });

  it("writes the original integration's Russian messages when the locale is ru", () => {
    const ru = { ...where, locale: "ru" as const };
    assert.match(new ConfluenceAuthenticationError(ru).message, /^Ошибка аутентификации/);
    assert.match(new ConfluencePermissionError(ru).message, /^Недостаточно прав доступа/);
    assert.match(new ConfluenceValidationError(ru).message, /^Ошибка валидации/);
    assert.match(
      new ConfluenceNetworkError({ ...ru, reason: "reset" }).message,
      /^Ошибка сети \(соединение сброшено\)/,
    );
    assert.match(new ConfluenceNotFoundError(ru).message, /не найден/);
    assert.match(new ConfluenceRateLimitedError(ru).message, /лимит/);
    assert.match(new ConfluenceAuthenticationError({ ...ru, hint: "cloud-credentials" }).message, /cloudId/);
    assert.match(
      new ConfluenceConfigError({ field: "baseUrl", reason: "x", locale: "ru" }).message,
      /^Некорректный формат base_url/,
    );
    assert.match(
      new ConfluenceConfigError({ field: "cloudId", reason: "x", locale: "ru" }).message,
      /^Некорректная конфигурация/,
    );
  });

  it("explains the likely cause through the hint", () => {
    const e = new ConfluenceAuthenticationError({ ...where, status: 404, hint: "cloud-credentials" });
    assert.include(e.message, "check the e-mail and API token; a scoped token must be used with cloudId");
  });

  it.effect("survives an encode/decode round trip through its schema", () =>
    Effect.gen(function* () {
      for (const e of all) {
        const encoded = yield* Schema.encode(ConfluenceError)(e);
        const decoded = yield* Schema.decode(ConfluenceError)(encoded);
        assert.strictEqual(decoded._tag, e._tag);
        assert.strictEqual(decoded.message, e.message);
      }
    }),
  );
});
