// The failures a Confluence call can end in: one tagged class per thing a caller handles differently,
// one union type, one retryability rule. The classes are Schema.TaggedError so the publisher can store
// and send them; they carry method, path, status and Confluence's own text, never a credential
// (the client scrubs secrets before building them). `message` is English unless `locale` is "ru".
import { Schema } from "effect";

/** Language of error messages: English (default) or Russian, as the original integration's users read them. */
export const ConfluenceLocale = Schema.Literal("en", "ru");
/** Language of error messages. */
export type ConfluenceLocale = typeof ConfluenceLocale.Type;

/**
 * Why an error probably happened, as a closed set of codes rendered per locale in `message`.
 * Set by the client where Confluence's answer is known to be misleading (e.g. Cloud's 404 for bad
 * credentials on v2, or a scoped token sent to the site domain). The `datacenter-*` credential hints
 * have a variant for a deployment detected from the address rather than configured
 * (`datacenter-anonymous-or-cloud`, `datacenter-detected`): a Cloud site on a custom domain is
 * detected as Data Center, gets the token as Bearer and answers like a Data Center refusing it, so
 * the message names `confluence.deployment` instead of only blaming the token. With Basic auth on
 * Data Center (user name and password) a refusal is `datacenter-basic-credentials`, which names the
 * password rather than a personal access token.
 */
export const ConfluenceHint = Schema.Literal(
  "cloud-credentials",
  "cloud-v2-not-found-may-be-credentials",
  "scoped-token-needs-gateway",
  "scope-mismatch",
  "datacenter-anonymous",
  "datacenter-anonymous-or-cloud",
  "datacenter-detected",
  "datacenter-basic-credentials",
  "datacenter-captcha",
  "datacenter-session-lost",
  "endpoint-removed",
  "unexpected-response",
  "check-base-url",
  "page-was-trashed",
  "no-permission",
  "update-refused",
  "parent-missing",
  "too-large",
);
/** Why an error probably happened (see {@link ConfluenceHint}). */
export type ConfluenceHint = typeof ConfluenceHint.Type;

/**
 * What failed below HTTP: name resolution, connecting, TLS, a reset connection, a timeout, the
 * proxy refusing the tunnel (`code` is then `PROXY_<status>`, e.g. `PROXY_407` for credentials), or other.
 */
export const ConfluenceNetworkReason = Schema.Literal(
  "dns",
  "connect",
  "tls",
  "reset",
  "timeout",
  "proxy",
  "other",
);
/** What failed below HTTP (see {@link ConfluenceNetworkReason}). */
export type ConfluenceNetworkReason = typeof ConfluenceNetworkReason.Type;

const requestFields = {
  /** HTTP method, e.g. `GET`. */
  method: Schema.String,
  /** Request path without the query string (queries can hold CQL with user text). */
  path: Schema.String,
  /** HTTP status, absent when no response arrived. */
  status: Schema.optional(Schema.Number),
  /** Confluence's own message (scrubbed of secrets, bounded in length). */
  confluenceMessage: Schema.optional(Schema.String),
  /** The likely cause, when the client can tell. */
  hint: Schema.optional(ConfluenceHint),
  /** Language of `message`; English when absent. */
  locale: Schema.optional(ConfluenceLocale),
};

/** Credentials missing, wrong, expired, revoked or sent the wrong way (401, and Cloud's 403/404 disguises). */
export class ConfluenceAuthenticationError extends Schema.TaggedError<ConfluenceAuthenticationError>()(
  "ConfluenceAuthenticationError",
  requestFields,
) {
  override get message(): string {
    return render(this, { en: "Confluence authentication failed", ru: "Ошибка аутентификации" });
  }
}

/** The user is known but may not do this (403). */
export class ConfluencePermissionError extends Schema.TaggedError<ConfluencePermissionError>()(
  "ConfluencePermissionError",
  requestFields,
) {
  override get message(): string {
    return render(this, { en: "Confluence permission denied", ru: "Недостаточно прав доступа" });
  }
}

/**
 * The page, space, property or endpoint does not exist or is invisible to the user (404, 410), or
 * the page was in the trash when an update reached it (`hint: "page-was-trashed"`, status 200:
 * Cloud's v2 update restores a trashed page instead of writing it; the client puts it back).
 */
export class ConfluenceNotFoundError extends Schema.TaggedError<ConfluenceNotFoundError>()(
  "ConfluenceNotFoundError",
  requestFields,
) {
  override get message(): string {
    return render(this, { en: "Confluence resource not found", ru: "Ресурс Confluence не найден" });
  }
}

/**
 * Confluence rejected the request itself (400, 413): malformed storage body, bad CQL, bad label,
 * or too large (413, `hint: "too-large"`: the page is not invalid but over Confluence's size
 * limit, and the message says so and what to do).
 */
export class ConfluenceValidationError extends Schema.TaggedError<ConfluenceValidationError>()(
  "ConfluenceValidationError",
  requestFields,
) {
  override get message(): string {
    return render(
      this,
      this.hint === "too-large"
        ? { en: "The page is too large for Confluence", ru: "Страница слишком велика для Confluence" }
        : { en: "Confluence rejected the request as invalid", ru: "Ошибка валидации" },
    );
  }
}

/**
 * Another page in the space already holds this title (checked case-insensitively by Confluence):
 * a current page, or on Cloud an archived one (archived pages keep their title). Detected from
 * Confluence's own 400 message, since the status alone is a generic 400.
 */
export class ConfluenceTitleConflictError extends Schema.TaggedError<ConfluenceTitleConflictError>()(
  "ConfluenceTitleConflictError",
  {
    ...requestFields,
    title: Schema.optional(Schema.String),
    spaceKey: Schema.optional(Schema.String),
    /**
     * The page that holds the title, when the client found it (it was not provably ours, or it is
     * archived): `findPageByTitle` or `getPageInfo` says which.
     */
    existingPageId: Schema.optional(Schema.String),
  },
) {
  override get message(): string {
    return render(this, {
      en: "A page with this title already exists in the space",
      ru: "Страница с таким заголовком уже существует в пространстве",
    });
  }
}

/** The version number sent is not the current one plus one (409); `currentVersion` when Confluence says it. */
export class ConfluenceVersionConflictError extends Schema.TaggedError<ConfluenceVersionConflictError>()(
  "ConfluenceVersionConflictError",
  { ...requestFields, currentVersion: Schema.optional(Schema.Number) },
) {
  override get message(): string {
    return render(this, { en: "Confluence version conflict", ru: "Конфликт версий страницы" });
  }
}

/**
 * What a server said about waiting (`Retry-After`), both absent when it said nothing:
 * `retryAfterMs` is the wait the client honours in process (clamped to `maxRetryAfterMs`),
 * `requestedRetryAfterMs` what the server asked for (bounded only at ten years). When the two differ the client
 * does not retry the call itself (a retry after the clamped wait would come before the server
 * wants it): the caller should try again no sooner than `requestedRetryAfterMs`.
 */
const retryAfterFields = {
  retryAfterMs: Schema.optional(Schema.Number),
  requestedRetryAfterMs: Schema.optional(Schema.Number),
};

/**
 * Throttled (429). `retryAfterMs` is the server's `Retry-After`, clamped, and
 * `requestedRetryAfterMs` the same unclamped (see {@link requestedWaitMs}); absent when it sent none.
 */
export class ConfluenceRateLimitedError extends Schema.TaggedError<ConfluenceRateLimitedError>()(
  "ConfluenceRateLimitedError",
  { ...requestFields, ...retryAfterFields },
) {
  override get message(): string {
    return render(this, { en: "Confluence rate limit exceeded", ru: "Превышен лимит запросов к Confluence" });
  }
}

/**
 * Confluence or a proxy in front of it failed (5xx, or a transient 409 lock clash), or answered 2xx with
 * a body that is not what the API promises. `retryAfterMs` (clamped) and `requestedRetryAfterMs`
 * (as asked) when a 503 said how long to wait.
 */
export class ConfluenceServerError extends Schema.TaggedError<ConfluenceServerError>()(
  "ConfluenceServerError",
  { ...requestFields, ...retryAfterFields },
) {
  override get message(): string {
    return render(this, { en: "Confluence server error", ru: "Ошибка сервера Confluence" });
  }
}

/** No usable HTTP response: DNS, connect, TLS, reset or timeout (see `reason`). */
export class ConfluenceNetworkError extends Schema.TaggedError<ConfluenceNetworkError>()(
  "ConfluenceNetworkError",
  { ...requestFields, reason: ConfluenceNetworkReason, code: Schema.optional(Schema.String) },
) {
  override get message(): string {
    const reason = networkReasonText[this.reason][this.locale ?? "en"];
    return render(this, { en: `Network error (${reason})`, ru: `Ошибка сети (${reason})` });
  }
}

/** Any failure of a Confluence request. */
export type ConfluenceError =
  | ConfluenceAuthenticationError
  | ConfluencePermissionError
  | ConfluenceNotFoundError
  | ConfluenceValidationError
  | ConfluenceTitleConflictError
  | ConfluenceVersionConflictError
  | ConfluenceRateLimitedError
  | ConfluenceServerError
  | ConfluenceNetworkError;

/** Schema of {@link ConfluenceError}, to store or send an error and decode it back. */
export const ConfluenceError = Schema.Union(
  ConfluenceAuthenticationError,
  ConfluencePermissionError,
  ConfluenceNotFoundError,
  ConfluenceValidationError,
  ConfluenceTitleConflictError,
  ConfluenceVersionConflictError,
  ConfluenceRateLimitedError,
  ConfluenceServerError,
  ConfluenceNetworkError,
);

/**
 * Whether trying the same request again later may succeed: rate limits, server errors and network
 * errors. Never validation, auth, permission, not-found, title or version conflicts (a version
 * conflict needs a re-read, not a blind retry: see `ConfluenceClient.updatePage`).
 */
export const isRetryable = (e: ConfluenceError): boolean =>
  e._tag === "ConfluenceRateLimitedError" ||
  e._tag === "ConfluenceServerError" ||
  e._tag === "ConfluenceNetworkError";

/**
 * How long the server asked the caller to wait before trying again (`Retry-After` of a 429 or
 * 503), not clamped to the client's wait (at most ten years); `undefined` when it did not say.
 */
export const requestedWaitMs = (e: { readonly _tag: string }): number | undefined => {
  if (e._tag !== "ConfluenceRateLimitedError" && e._tag !== "ConfluenceServerError") return undefined;
  const w = e as {
    readonly retryAfterMs?: number | undefined;
    readonly requestedRetryAfterMs?: number | undefined;
  };
  return w.requestedRetryAfterMs ?? w.retryAfterMs;
};

/**
 * Whether the server asked for a longer wait than the client waits in process (`Retry-After`
 * above `maxRetryAfterMs`): the client then does not retry the call, and the caller tries again
 * once the asked wait is over.
 */
export const asksLongerThanClientWaits = (e: { readonly _tag: string }): boolean => {
  if (e._tag !== "ConfluenceRateLimitedError" && e._tag !== "ConfluenceServerError") return false;
  const w = e as {
    readonly retryAfterMs?: number | undefined;
    readonly requestedRetryAfterMs?: number | undefined;
  };
  return (
    w.requestedRetryAfterMs !== undefined &&
    w.retryAfterMs !== undefined &&
    w.requestedRetryAfterMs > w.retryAfterMs
  );
};

/** The client's configuration is unusable (e.g. a malformed base URL, or Bearer auth against a Cloud site). */
export class ConfluenceConfigError extends Schema.TaggedError<ConfluenceConfigError>()(
  "ConfluenceConfigError",
  {
    /** The offending configuration field, e.g. `baseUrl`. */
    field: Schema.String,
    /** What is wrong and how to fix it (English; never contains a secret). */
    reason: Schema.String,
    locale: Schema.optional(ConfluenceLocale),
  },
) {
  override get message(): string {
    // The original integration's wording for a bad base URL, which its users know.
    const ru =
      this.field === "baseUrl" ? "Некорректный формат base_url" : `Некорректная конфигурация (${this.field})`;
    const head = this.locale === "ru" ? ru : `Invalid Confluence configuration (${this.field})`;
    return `${head}: ${this.reason}`;
  }
}

// internal

interface Rendered {
  readonly method: string;
  readonly path: string;
  readonly status?: number | undefined;
  readonly confluenceMessage?: string | undefined;
  readonly hint?: ConfluenceHint | undefined;
  readonly locale?: ConfluenceLocale | undefined;
}

const render = (e: Rendered, summary: { readonly en: string; readonly ru: string }): string => {
  const locale = e.locale ?? "en";
  const where = `${e.method} ${e.path}${e.status === undefined ? "" : ` → ${e.status}`}`;
  const detail = e.confluenceMessage ? `: ${e.confluenceMessage}` : "";
  const hint = e.hint ? ` (${hintText[e.hint][locale]})` : "";
  return `${summary[locale]} [${where}]${detail}${hint}`;
};

const networkReasonText: Record<ConfluenceNetworkReason, Record<ConfluenceLocale, string>> = {
  dns: { en: "host name not resolved", ru: "имя хоста не найдено" },
  connect: { en: "connection refused or unreachable", ru: "не удалось подключиться" },
  tls: { en: "TLS/certificate failure", ru: "ошибка TLS/сертификата" },
  reset: { en: "connection reset", ru: "соединение сброшено" },
  timeout: { en: "timed out", ru: "превышено время ожидания" },
  proxy: { en: "the proxy refused the connection", ru: "прокси отклонил соединение" },
  other: { en: "transport failure", ru: "сбой транспорта" },
};

const hintText: Record<ConfluenceHint, Record<ConfluenceLocale, string>> = {
  "cloud-credentials": {
    en: "Cloud rejected the credentials: check the e-mail and API token; a scoped token must be used with cloudId (api.atlassian.com gateway)",
    ru: "Cloud отклонил учётные данные: проверьте e-mail и API-токен; токен с областями (scoped) работает только с cloudId (шлюз api.atlassian.com)",
  },
  "cloud-v2-not-found-may-be-credentials": {
    en: "Cloud v2 also answers a bare 404 'Not Found' when the credentials are rejected",
    ru: "Cloud v2 также отвечает 404 'Not Found' при неверных учётных данных",
  },
  "scoped-token-needs-gateway": {
    en: "the site answered with a non-JSON 401: a scoped API token only works through api.atlassian.com/ex/confluence/{cloudId}; set cloudId and scopedToken",
    ru: "сайт ответил 401 не в JSON: токен с областями (scoped) работает только через api.atlassian.com/ex/confluence/{cloudId}; укажите cloudId и scopedToken",
  },
  "scope-mismatch": {
    en: "the token lacks a scope this call needs (v2 needs granular scopes such as read:page:confluence)",
    ru: "у токена нет нужной области (scope); v2 требует гранулярные области, например read:page:confluence",
  },
  "datacenter-anonymous": {
    en: "Data Center treated the request as anonymous: the personal access token is wrong, expired or revoked",
    ru: "Data Center обработал запрос как анонимный: персональный токен доступа неверен, истёк или отозван",
  },
  "datacenter-anonymous-or-cloud": {
    en: 'Data Center treated the request as anonymous: the personal access token is wrong, expired or revoked; or this is Confluence Cloud on a custom domain, since Data Center was only guessed from the address: set confluence.deployment to "cloud"',
    ru: 'Data Center обработал запрос как анонимный: персональный токен доступа неверен, истёк или отозван; либо это Confluence Cloud на собственном домене, так как Data Center лишь угадан по адресу: укажите confluence.deployment = "cloud"',
  },
  "datacenter-detected": {
    en: 'the deployment was detected as Data Center from the address, not configured: if this is Confluence Cloud on a custom domain, set confluence.deployment to "cloud"',
    ru: 'тип развёртывания определён по адресу как Data Center, а не задан: если это Confluence Cloud на собственном домене, укажите confluence.deployment = "cloud"',
  },
  "datacenter-basic-credentials": {
    en: "Data Center refused the user name and password (Basic auth, confluence.auth_method basic): check confluence.username and the password stored for it (the vault entry for the site and user, or confluence.api_token); every attempt with a wrong password counts towards Data Center's CAPTCHA lock of the account",
    ru: "Data Center отклонил имя пользователя и пароль (Basic-аутентификация, confluence.auth_method basic): проверьте confluence.username и сохранённый для него пароль (запись в хранилище для сайта и пользователя или confluence.api_token); каждая попытка с неверным паролем приближает блокировку учётной записи через CAPTCHA",
  },
  "datacenter-captcha": {
    en: "the account is in CAPTCHA mode after failed logins: log in once in a browser",
    ru: "учётная запись требует CAPTCHA после неудачных входов: войдите один раз через браузер",
  },
  "datacenter-session-lost": {
    en: "Data Center answered 2xx with an empty body, which means the login was rejected",
    ru: "Data Center ответил 2xx с пустым телом: вход отклонён",
  },
  "endpoint-removed": {
    en: "Confluence removed this endpoint (410 Gone)",
    ru: "Confluence удалил этот метод API (410 Gone)",
  },
  "check-base-url": {
    en: "the 404 is not a Confluence REST answer (no JSON body), so the URL is probably outside Confluence: check the base URL (Cloud https://SITE.atlassian.net/wiki; Data Center with its context path, e.g. /confluence)",
    ru: "ответ 404 пришёл не от REST API Confluence (тело не JSON), скорее всего адрес вне Confluence: проверьте базовый URL (Cloud https://SITE.atlassian.net/wiki; Data Center с путём контекста, например /confluence)",
  },
  "unexpected-response": {
    en: "the response body is not what the Confluence API promises (a proxy page?)",
    ru: "тело ответа не соответствует API Confluence (страница прокси?)",
  },
  "no-permission": {
    en: "Confluence refused Minutes' account: check that the space exists and is not archived, that the account may view it and add and edit pages there (space permissions), and that no page restriction leaves it out of this page or its parent; then retry",
    ru: "Confluence отказал учётной записи Minutes: проверьте, что пространство существует и не в архиве, что учётная запись может его просматривать, создавать и редактировать в нём страницы (права пространства) и что ограничения страницы или её родителя её не исключают; затем повторите",
  },
  "update-refused": {
    en: "the page reads back as current, yet Confluence answers its update as not found, which it does for a page Minutes' account may view but not edit: lift the page's edit restriction or give the account permission to edit pages in the space, then retry",
    ru: "страница читается как текущая, но Confluence отвечает на её обновление «не найдено» — так он отвечает, когда учётная запись Minutes может просматривать страницу, но не редактировать: снимите ограничение на редактирование страницы или дайте учётной записи право редактировать страницы в пространстве, затем повторите",
  },
  "parent-missing": {
    en: "the page it was to go under is not there, or Minutes' account may not see it: check the parent page id of the route (parent_page_id, the routing rule, or the event's parentPageId) or restore that page, then retry",
    ru: "страницы, под которой она должна оказаться, нет, или учётная запись Minutes её не видит: проверьте идентификатор родительской страницы маршрута (parent_page_id, правило маршрутизации или parentPageId события) или восстановите эту страницу, затем повторите",
  },
  "too-large": {
    en: "Confluence refused the request body as larger than it accepts (413; Cloud takes at most 5 MB, 5,242,880 bytes, per page; Data Center's limit is set by its administrator): split the protocol into several smaller ones or shorten it (large tables and pasted content weigh most), or ask the Confluence administrator about the size limit; then send it again",
    ru: "Confluence отклонил тело запроса как превышающее допустимый размер (413; Cloud принимает не более 5 МБ, 5 242 880 байт, на страницу; предел Data Center задаёт администратор): разделите протокол на несколько меньших или сократите его (больше всего весят большие таблицы и вставленный текст) либо узнайте у администратора Confluence предел размера; затем отправьте его снова",
  },
  "page-was-trashed": {
    en: "the page was in the trash: Confluence answered the update by restoring the page without writing it, so nothing was published",
    ru: "страница была в корзине: Confluence ответил на обновление восстановлением страницы без записи, поэтому ничего не опубликовано",
  },
};
