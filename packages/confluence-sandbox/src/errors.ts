// Confluence's two error envelopes (REST-API.md §7.1) and the error the route handlers throw.
// Handlers throw `ConfluenceApiError`; the app's error handler renders it for the API the route
// belongs to, so one handler never has to know which envelope it is speaking.

/** Which REST API a route belongs to; decides the error envelope. */
export type ApiKind = "v1" | "v2" | "other";

/** An error a route handler throws to answer with Confluence's status and body. */
export class ConfluenceApiError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Overrides the envelope for the odd Confluence reply with its own shape. */
  readonly rawBody: unknown;
  /** Cloud prefixes v1 messages with the Java exception class; handlers give the class here. */
  readonly exception: string | undefined;

  constructor(
    status: number,
    message: string,
    options: { headers?: Record<string, string>; rawBody?: unknown; exception?: string } = {},
  ) {
    super(message);
    this.status = status;
    this.headers = options.headers ?? {};
    this.rawBody = options.rawBody;
    this.exception = options.exception;
  }
}

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The HTTP reason phrase for a status. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Error";
}

/** v1 envelope: `{statusCode, data:{authorized,valid,allowedInReadOnlyMode,errors,successful}, message, reason}`. */
export function v1ErrorBody(status: number, message: string): Record<string, unknown> {
  return {
    statusCode: status,
    data: {
      authorized: status !== 401 && status !== 403,
      valid: status !== 400,
      allowedInReadOnlyMode: true,
      errors: [],
      successful: false,
    },
    message,
    reason: reasonPhrase(status),
  };
}

/** v2 envelope: `{errors:[{status, code, title, detail}]}` with `code` the upper-case reason. */
export function v2ErrorBody(
  status: number,
  title: string,
  detail: string | null = null,
): Record<string, unknown> {
  return {
    errors: [{ status, code: reasonPhrase(status).toUpperCase().replace(/ /g, "_"), title, detail }],
  };
}

/** Java exception class names Cloud puts in front of v1 messages (REST-API.md §7.1). */
export const Exceptions = {
  badRequest: "com.atlassian.confluence.api.service.exceptions.BadRequestException",
  notFound: "com.atlassian.confluence.api.service.exceptions.NotFoundException",
  conflict: "com.atlassian.confluence.api.service.exceptions.ConflictException",
  gone: "com.atlassian.confluence.api.service.exceptions.GoneException",
  permission: "com.atlassian.confluence.api.service.exceptions.PermissionException",
} as const;
