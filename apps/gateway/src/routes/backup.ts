/**
 * Backups as JSON Lines: `GET /api/export` streams the store's export; `POST /api/import` takes
 * `application/x-ndjson` (up to 64 × `gateway.body_limit_bytes`) and restores it idempotently in
 * one transaction (`?onInvalidLine=skip` counts bad lines and lists the first 100 instead of
 * aborting), or refuses a file that is not a whole export (no header, no end line, other counts).
 * The body is first spooled to a private temporary file, then imported from it line by line: memory
 * does not grow with the body, and the transaction (on SQLite, the write lock) lasts as long as
 * the import itself, not as long as a slow upload. One import at a time per gateway: a second one
 * is answered 409, so an upload that stalls or trickles is cut off (408) after a bounded time.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream, type ReadStream } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { envVarForKey } from "@minutes/contracts";
import { ImportSummary } from "@minutes/contracts/api";
import type { ImportResult } from "@minutes/publication-store";
import { Data, Effect, Schema, Stream } from "effect";
import { errorCodes, type FastifyPluginAsync } from "fastify";
import type { RouteOptions } from "../context.js";
import { charsetProblem } from "../json-body.js";
import { ndjsonLines } from "../ndjson-lines.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { HttpProblem } from "../problem.js";
import { runEffect } from "../run-effect.js";
import {
  adminOnly,
  answer,
  DATABASE_DOWN,
  DOCUMENTED_BODY,
  invalidInput,
  noQuery,
  problemAnswer,
  problemResponses,
  unavailableAnswer,
} from "./responses.js";

const NDJSON = "application/x-ndjson";
/** An import body may be this many times `gateway.body_limit_bytes`: a backup holds every protocol. */
const IMPORT_LIMIT_FACTOR = 64;

/** Seconds a client refused because an import is running is asked to wait (`Retry-After`). */
export const IMPORT_RETRY_AFTER_S = 30;
/**
 * How long an import's upload may send nothing before it is answered 408 and its slot freed: a
 * client that stalls would otherwise keep every other import out until its connection closes.
 */
export const IMPORT_IDLE_TIMEOUT_MS = 60_000;
/**
 * How long an import's whole upload may take before it is answered 408 and its slot freed: the
 * idle limit alone lets a client that sends a byte a little more often keep every other import out
 * for as long as it likes. 15 minutes take the largest body (64 × the default 1 MiB) at ~75 KB/s.
 */
export const IMPORT_UPLOAD_TIMEOUT_MS = 15 * 60_000;

/** The `detail` of that 409. */
export const IMPORT_RUNNING = "an import is already running; try again when it has finished";

const ImportQuery = Schema.Struct({ onInvalidLine: Schema.optional(Schema.Literal("abort", "skip")) });
type ImportQuery = typeof ImportQuery.Type;

export const backupRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const bodyLimit = ctx.config.gateway.body_limit_bytes;
  const importLimit = bodyLimit * IMPORT_LIMIT_FACTOR;
  // Fastify's own 413, so that the error handler words it (with the route's `bodyLimitHint`) as
  // for any other route.
  const tooLarge = () => new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
  // The body is left unread (the handler spools it), so Fastify does not count it: a declared
  // length over the limit is refused here, before the import starts, and `spoolBody` counts the
  // bytes of a body sent without one (chunked).
  app.addContentTypeParser(NDJSON, (request, payload, done) => {
    const refused = charsetProblem(request.headers["content-type"], NDJSON);
    if (refused !== undefined) return done(refused, undefined);
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > importLimit) return done(tooLarge(), undefined);
    done(null, payload);
  });
  const abandoned = await removeAbandonedSpools();
  if (abandoned > 0)
    app.log.info(
      { removed: abandoned },
      "removed the import spool files of gateways that stopped during an import",
    );
  // Per gateway: two imports would each hold a transaction (on SQLite they would wait for each
  // other's write lock), and each spools its body to disk first.
  let importing = false;

  app.get(
    "/api/export",
    {
      ...adminOnly,
      schema: {
        tags: ["backup"],
        summary: "Export every protocol, publication and version as JSON Lines",
        ...noQuery,
        response: {
          200: {
            description:
              "The export as a JSON Lines download, streamed, for `POST /api/import`: a header line, one publication, page version or protocol per line (each batch of publications followed by their versions, protocols last), and an end line counting them. A download cut short has no end line, and its import is refused.",
            headers: {
              "Content-Disposition": {
                type: "string",
                description: 'Always `attachment; filename="minutes-export-<time>.jsonl"`.',
              },
            },
            content: { [NDJSON]: { schema: { type: "string" } } },
          },
          400: invalidInput("a query parameter"),
          503: unavailableAnswer(
            "the publication database is unavailable (checked before the first byte is sent)",
            DATABASE_DOWN,
          ),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      // Fail with a 503 before the first byte rather than cutting a started download short.
      await runEffect(ctx.store.health());
      const lines = ctx.store.exportJsonl().pipe(
        Stream.map((line) => `${line}\n`),
        Stream.tapErrorCause((cause) =>
          Effect.sync(() => request.log.error({ cause: String(cause) }, "export failed")),
        ),
      );
      const stamp = new Date().toISOString().replaceAll(":", "-");
      return reply
        .type(NDJSON)
        .header("content-disposition", `attachment; filename="minutes-export-${stamp}.jsonl"`)
        .send(Readable.from(Stream.toAsyncIterable(lines)));
    },
  );

  app.post<{ Body: AsyncIterable<Uint8Array>; Querystring: ImportQuery }>(
    "/api/import",
    {
      bodyLimit: importLimit,
      // The import is one transaction, so raising the limit is the only way to restore a larger
      // backup: the 413 says which setting does it.
      config: {
        admin: true,
        bodyLimitHint: `an import takes up to ${IMPORT_LIMIT_FACTOR} × gateway.body_limit_bytes (${bodyLimit} bytes); to restore a larger backup, raise gateway.body_limit_bytes (${envVarForKey("gateway.body_limit_bytes")}) and restart the gateway`,
      },
      // After the key checks (an unauthenticated request learns nothing), before the body is read.
      preParsing: async (request, _reply, payload) => {
        const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== NDJSON) {
          throw new HttpProblem({
            status: 415,
            detail: `send the export as ${NDJSON} (got ${type ? JSON.stringify(type) : "no content type"})`,
          });
        }
        return payload;
      },
      schema: {
        tags: ["backup"],
        summary: "Import a JSON Lines export (idempotent)",
        querystring: routeSchema(ImportQuery),
        // Documented only: the NDJSON parser reads the body as a stream, line by line.
        ...{
          [DOCUMENTED_BODY]: {
            required: true,
            description:
              "The export as written by `GET /api/export`: JSON Lines, one JSON object per line (header line first; with format version 2 an end line last), in UTF-8, uncompressed. Up to 64 × `gateway.body_limit_bytes`.",
            content: {
              [NDJSON]: {
                schema: { type: "string", description: "JSON Lines text (newline-delimited JSON objects)" },
                example:
                  '{"kind":"header","format":"minutes-publication-store","version":2}\n{"kind":"end","protocols":0,"publications":0,"versions":0}\n',
              },
            },
          },
        },
        response: {
          200: answer(
            routeSchema(ImportSummary),
            "Imported, in one transaction: how many lines were new, updated or skipped (not newer), and with `onInvalidLine=skip` the invalid ones (the first 100 listed in `errors`). The body is spooled to a private temporary file (not held in memory), then imported from it: the transaction lasts as long as the import, not the upload. On SQLite, other writers (publishers) wait for it while it runs.",
          ),
          400: invalidInput(
            "a line that is not a valid export line (unless `onInvalidLine=skip`; the detail names the line, the field, what was expected and what was found: nothing was written); a file that is not a whole export, also with `onInvalidLine=skip`: empty, not starting with its header line, or (format version 2) without its end line (`the file ends after line N without its end line: the export was cut short`) or with lines its end line does not count; a body that is not UTF-8, or an unknown query parameter",
          ),
          413: problemAnswer(
            413,
            "Payload too large: the body is over 64 × `gateway.body_limit_bytes` (64 MiB by default). Nothing was written. The detail names the limit and the setting that raises it.",
            {
              detail:
                "the request body is larger than the 67108864 bytes this route accepts: an import takes up to 64 × gateway.body_limit_bytes (1048576 bytes); to restore a larger backup, raise gateway.body_limit_bytes (MINUTES_GATEWAY__BODY_LIMIT_BYTES) and restart the gateway",
            },
          ),
          409: problemAnswer(
            409,
            "Conflict: another import is running on this gateway (one at a time; each is one transaction). Nothing was read or written; send the file again after `Retry-After` seconds, or once the running import has answered.",
            {
              detail: IMPORT_RUNNING,
              headers: {
                "Retry-After": {
                  type: "integer",
                  description: `Seconds to wait before trying again (${IMPORT_RETRY_AFTER_S}); an import of a large backup may take longer.`,
                },
              },
            },
          ),
          408: problemAnswer(
            408,
            "Request timeout: the upload sent nothing for 60 s, or was not complete after 900 s. Nothing was imported (the import starts once the whole body is in), the connection is closed and the next import may run; send the file again.",
            { detail: "the upload sent nothing for 60 s; nothing was imported: send the file again" },
          ),
          415: problemAnswer(
            415,
            "Unsupported media type: the body must be `application/x-ndjson` in UTF-8 (no charset, or `charset=utf-8`), uncompressed (no `Content-Encoding`).",
            { detail: 'send the export as application/x-ndjson (got "application/json")' },
          ),
          503: unavailableAnswer(
            "the publication database is unavailable; nothing was written",
            DATABASE_DOWN,
          ),
          ...problemResponses,
        },
      },
    },
    async (request): Promise<ImportSummary> => {
      // A 503 before the upload rather than after it (the body may be 64 MiB). Checked before the
      // slot is: nothing awaits between the check of the slot and taking it.
      await runEffect(ctx.store.health());
      if (importing) {
        throw new HttpProblem({
          status: 409,
          slug: "import-running",
          detail: IMPORT_RUNNING,
          headers: { "retry-after": String(IMPORT_RETRY_AFTER_S) },
        });
      }
      importing = true;
      let result: ImportResult;
      let spool: string | undefined;
      let reader: ReadStream | undefined;
      try {
        // The whole upload first, on disk: a slow client must not hold the transaction open.
        spool = await spoolBody(request.body, {
          limitBytes: importLimit,
          tooLarge,
          idleMs: ctx.importIdleTimeoutMs,
          uploadMs: ctx.importUploadTimeoutMs,
        }).catch((cause: unknown) => {
          throw bodyProblem(cause);
        });
        const file = spool;
        // Opened once the import reads it: a transaction that never starts (the database went
        // away, the SQLite write lock busy) leaves no descriptor behind; the `finally` closes it
        // whatever happened after.
        const lines = Stream.suspend(() => {
          reader = createReadStream(file);
          return Stream.fromAsyncIterable(
            ndjsonLines(reader, { limitBytes: importLimit, tooLarge }),
            (cause) => new ImportBodyError({ cause }),
          );
        }).pipe(Stream.flattenIterables);
        result = await runEffect(
          ctx.store
            .importJsonl(lines, { onInvalidLine: request.query.onInvalidLine ?? "abort" })
            .pipe(Effect.catchTag("ImportBodyError", (e) => Effect.die(bodyProblem(e.cause)))),
        );
      } finally {
        importing = false;
        reader?.destroy();
        if (spool !== undefined) await rm(dirname(spool), { recursive: true, force: true });
      }
      request.log.info(
        {
          imported: result.imported,
          updated: result.updated,
          skipped: result.skipped,
          invalid: result.invalid,
        },
        "import finished",
      );
      return {
        imported: result.imported,
        updated: result.updated,
        skipped: result.skipped,
        invalid: result.invalid,
        errors: result.errors.map((e) => ({ line: e.line, reason: e.reason })),
        errorsOmitted: result.errorsOmitted,
      };
    },
  );
};

// internal

/**
 * Writes `body` to a new file only this process's user may read (it holds protocols), in a new
 * directory under the system's temporary directory, and returns its path; fails with `tooLarge()`
 * once more than `limitBytes` arrived, with a 408 when nothing arrived for `idleMs` or the body was
 * not complete after `uploadMs`, and with the body's own error (a client that went away). On
 * failure nothing is left behind.
 */
const spoolBody = async (
  body: AsyncIterable<Uint8Array>,
  {
    limitBytes,
    tooLarge,
    idleMs,
    uploadMs,
  }: { limitBytes: number; tooLarge: () => Error; idleMs: number; uploadMs: number },
): Promise<string> => {
  const deadline = Date.now() + uploadMs;
  const dir = await mkdtemp(join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-`));
  const path = join(dir, "import.jsonl");
  const file = createWriteStream(path, { flags: "wx", mode: 0o600 });
  // A write error (a full disk) ends the copy at the next chunk, or at the end.
  let writeError: unknown;
  file.on("error", (error) => {
    writeError ??= error;
  });
  try {
    let received = 0;
    // Read by hand: leaving a `for await` early would destroy the request, and with it the
    // connection the 413 is to be answered on.
    const chunks = body[Symbol.asyncIterator]();
    // Each chunk waits for the idle limit or what is left of the upload's, whichever ends first.
    const nextChunk = () => {
      const left = deadline - Date.now();
      return left < idleMs
        ? withTimeLimit(chunks.next(), left, () => uploadTooSlow(uploadMs))
        : withTimeLimit(chunks.next(), idleMs, () => uploadIdle(idleMs));
    };
    for (let next = await nextChunk(); next.done !== true; next = await nextChunk()) {
      if (Date.now() > deadline) throw uploadTooSlow(uploadMs);
      const chunk = next.value;
      received += chunk.length;
      if (received > limitBytes) throw tooLarge();
      if (writeError !== undefined) throw writeError;
      if (!file.write(chunk)) await once(file, "drain");
    }
    await new Promise<void>((resolve, reject) =>
      file.end(() => (writeError === undefined ? resolve() : reject(writeError))),
    );
    if (writeError !== undefined) throw writeError;
    return path;
  } catch (error) {
    file.destroy();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
};

/** Spool directories are `<tmpdir>/minutes-import-<pid>-<random>`. */
const SPOOL_PREFIX = "minutes-import-";

/**
 * Removes the spool directories of gateways on this host that are no longer running (killed during
 * an import: their `finally` never ran). A directory whose process still runs (another gateway
 * importing now) is left alone. Returns how many were removed.
 */
export const removeAbandonedSpools = async (dir: string = tmpdir()): Promise<number> => {
  const entries = await readdir(dir).catch(() => [] as Array<string>);
  let removed = 0;
  for (const name of entries) {
    const pid = Number(/^minutes-import-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || isRunning(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
};

/** Whether a process with this id runs on this host (one of another user counts as running). */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
};

/** `next`, or `problem()` when it has not settled after `ms`. */
const withTimeLimit = <A>(next: Promise<A>, ms: number, problem: () => HttpProblem): Promise<A> => {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(problem()), Math.max(0, ms));
  });
  return Promise.race([next, limit]).finally(() => clearTimeout(timer));
};

/** The 408 of an upload that sent nothing for `idleMs`. */
const uploadIdle = (idleMs: number): HttpProblem =>
  new HttpProblem({
    status: 408,
    detail: `the upload sent nothing for ${idleMs / 1000} s; nothing was imported: send the file again`,
    headers: { connection: "close" },
  });

/** The 408 of an upload still not complete after `uploadMs`. */
const uploadTooSlow = (uploadMs: number): HttpProblem =>
  new HttpProblem({
    status: 408,
    detail: `the upload was not complete after ${uploadMs / 1000} s, the longest an import's upload may take; nothing was imported: send the file again over a faster connection`,
    headers: { connection: "close" },
  });

/** The body could not be read (not UTF-8, over the limit, cut off): the import wrote nothing. */
class ImportBodyError extends Data.TaggedError("ImportBodyError")<{ readonly cause: unknown }> {}

/**
 * What the error handler answers for a body that could not be read: the problem `ndjsonLines`
 * raised, or a 400 for a connection closed in the middle of the upload (the client is gone; the
 * log says why the import stopped).
 */
const bodyProblem = (cause: unknown): unknown =>
  cause instanceof HttpProblem || (cause instanceof Error && "statusCode" in cause)
    ? cause
    : new HttpProblem({
        status: 400,
        detail:
          "the upload stopped before the body was complete (the connection was closed); nothing was imported",
      });
