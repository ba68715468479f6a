/**
 * Builds a Confluence page title from a meeting date and topic and a format such as
 * `YYYYMMDD - {topic}`. The result is an `Either`: plain callers read it synchronously, and inside
 * `Effect.gen` it is yielded like an effect, so there is one function and no thrown exceptions.
 * Titles are capped at 255 UTF-16 code units (Confluence's limit), cutting the topic between graphemes.
 */
import { Either, Schema } from "effect";
import type { MeetingInfo } from "./meeting-info.js";

/** The default page title format: `20250902 - Confluence Integration`. */
export const DEFAULT_PAGE_TITLE_FORMAT = "YYYYMMDD - {topic}";

/** The longest title Confluence accepts, in UTF-16 code units. */
export const MAX_PAGE_TITLE_LENGTH = 255;

/**
 * No page title can be built: the format needs a date that is missing (`MissingDate`) or is not an
 * existing `YYYY-MM-DD` date (`InvalidDate`), or the title would be empty (`EmptyTitle`).
 */
export class PageTitleError extends Schema.TaggedError<PageTitleError>()("PageTitleError", {
  reason: Schema.Literal("MissingDate", "InvalidDate", "EmptyTitle"),
  format: Schema.String,
  date: Schema.NullOr(Schema.String),
}) {
  override get message(): string {
    if (this.reason === "InvalidDate") {
      return `The meeting date ${JSON.stringify(this.date)} is not a date YYYY-MM-DD that exists.`;
    }
    return this.reason === "MissingDate"
      ? `The page title format "${this.format}" needs a meeting date, but none was given or found in the protocol.`
      : `The page title format "${this.format}" gives an empty title: the protocol has no topic.`;
  }
}

/**
 * Builds the page title for a meeting. `format` may use `YYYY`, `MM`, `DD` (from `date`) and
 * `{topic}`; everything else is kept as written. Whitespace is collapsed and trimmed. A `null` or
 * blank topic counts as empty and takes the separator next to it along (`20250902`, not
 * `20250902 - `); empty `()` and `[]` are removed. Titles longer than 255 characters get a
 * shortened topic ending in `…`, cut between graphemes (an emoji or `é` is never split).
 *
 * Fails with {@link PageTitleError} when the format uses a date token and `date` is `null`
 * (`MissingDate`) or not an existing `YYYY-MM-DD` date (`InvalidDate`), or when the title would be
 * empty (`EmptyTitle`). The tokens are matched anywhere in the format, so a literal word containing
 * `MM` or `DD` would be replaced too.
 *
 * @example
 * generatePageTitle({ date: "2025-09-02", topic: "Confluence Integration" })
 * // → Either.right("20250902 - Confluence Integration")
 * Either.getOrThrow(generatePageTitle({ date: null, topic: "Budget" }, "{topic}")) // → "Budget"
 * // in Effect.gen: const title = yield* generatePageTitle(info, format)
 */
export const generatePageTitle = (
  info: MeetingInfo,
  format: string = DEFAULT_PAGE_TITLE_FORMAT,
): Either.Either<string, PageTitleError> => {
  const tokens = format.match(TOKEN) ?? [];
  const usesDate = tokens.some((token) => token !== TOPIC_TOKEN);
  let parts: DateParts = { YYYY: "", MM: "", DD: "" };
  if (usesDate) {
    if (info.date === null) {
      return Either.left(new PageTitleError({ reason: "MissingDate", format, date: null }));
    }
    const date = dateParts(info.date);
    if (date === null) {
      return Either.left(new PageTitleError({ reason: "InvalidDate", format, date: info.date }));
    }
    parts = date;
  }
  const render = (topic: string): string => collapse(renderTitle(format, parts, topic));
  const topic = collapse((info.topic ?? "").replace(/\p{Cc}/gu, " "));
  const title = render(topic);
  if (title === "") return Either.left(new PageTitleError({ reason: "EmptyTitle", format, date: info.date }));
  return Either.right(title.length <= MAX_PAGE_TITLE_LENGTH ? title : shorten(topic, render));
};

// internal

const TOPIC_TOKEN = "{topic}";
const TOKEN = /YYYY|MM|DD|\{topic\}/g;
/** Characters that only separate parts of a title; they go when the part next to them is empty. */
const SEPARATOR = /[\s\-–—:|/,;.·•_]/u;

interface DateParts {
  readonly YYYY: string;
  readonly MM: string;
  readonly DD: string;
}

const collapse = (text: string): string => text.replace(/\s+/gu, " ").trim();

const dateParts = (date: string): DateParts | null => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/u.exec(date);
  if (m === null) return null;
  const [, YYYY = "", MM = "", DD = ""] = m;
  const month = Number(MM);
  const day = Number(DD);
  const daysInMonth = [31, isLeapYear(Number(YYYY)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
    month - 1
  ];
  return daysInMonth !== undefined && day >= 1 && day <= daysInMonth ? { YYYY, MM, DD } : null;
};

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Fills the tokens in one pass (a topic containing `MM` stays as it is); an empty topic takes a separator along. */
const renderTitle = (format: string, date: DateParts, topic: string): string => {
  const EMPTY = "\uE000"; // a private-use character no title contains
  let title = format
    .replace(TOKEN, (token) =>
      token === TOPIC_TOKEN ? (topic === "" ? EMPTY : topic) : date[token as keyof DateParts],
    )
    // Brackets the format put around a missing topic go with it; brackets in a topic stay.
    .replace(/\(\s*\uE000\s*\)|\[\s*\uE000\s*\]/gu, EMPTY);
  for (let at = title.indexOf(EMPTY); at !== -1; at = title.indexOf(EMPTY)) {
    let start = at;
    while (start > 0 && SEPARATOR.test(title[start - 1]!)) start--;
    let end = at + 1;
    if (start === 0) while (end < title.length && SEPARATOR.test(title[end]!)) end++;
    title = title.slice(0, start) + title.slice(end);
  }
  return title;
};

/** The longest grapheme prefix of the topic (plus `…`) whose title fits, found by binary search. */
const shorten = (topic: string, render: (topic: string) => string): string => {
  const graphemes = Array.from(
    new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(topic),
    (s) => s.segment,
  );
  const withPrefix = (count: number): string => render(`${graphemes.slice(0, count).join("").trimEnd()}…`);
  let low = 0;
  let high = graphemes.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (withPrefix(mid).length <= MAX_PAGE_TITLE_LENGTH) low = mid;
    else high = mid - 1;
  }
  const title = withPrefix(low);
  if (title.length <= MAX_PAGE_TITLE_LENGTH) return title;
  // The format's own text is too long: cut the whole title instead.
  const all = Array.from(
    new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(title),
    (s) => s.segment,
  );
  let cut = "";
  for (const g of all) {
    if (cut.length + g.length > MAX_PAGE_TITLE_LENGTH - 1) break;
    cut += g;
  }
  return `${cut.trimEnd()}…`;
};
