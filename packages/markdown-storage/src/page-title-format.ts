/**
 * Page titles from a meeting date and topic and a format such as `YYYYMMDD - {topic}`, without
 * Effect: {@link formatPageTitle} is what `generatePageTitle` wraps in an `Either`, for callers that
 * must stay light (a render thread loads this module, not Effect).
 */
import type { MeetingInfo } from "./meeting-info.js";

/** The default page title format: `20250902 - Confluence Integration`. */
export const DEFAULT_PAGE_TITLE_FORMAT = "YYYYMMDD - {topic}";

/** The longest title Confluence accepts, in UTF-16 code units. */
export const MAX_PAGE_TITLE_LENGTH = 255;

/**
 * Why no title can be built: the format needs a date that is missing (`MissingDate`) or is not an
 * existing `YYYY-MM-DD` date (`InvalidDate`), or the title would be empty (`EmptyTitle`).
 */
export type PageTitleFailure = "MissingDate" | "InvalidDate" | "EmptyTitle";

/**
 * The page title for a meeting, or why there is none; the rules are `generatePageTitle`'s.
 *
 * @example
 * formatPageTitle({ date: "2025-09-02", topic: "Budget" }) // → { title: "20250902 - Budget" }
 * formatPageTitle({ date: null, topic: "Budget" }) // → { failure: "MissingDate" }
 */
export const formatPageTitle = (
  info: MeetingInfo,
  format: string = DEFAULT_PAGE_TITLE_FORMAT,
): { readonly title: string } | { readonly failure: PageTitleFailure } => {
  const tokens = format.match(TOKEN) ?? [];
  const usesDate = tokens.some((token) => token !== TOPIC_TOKEN);
  let parts: DateParts = { YYYY: "", MM: "", DD: "" };
  if (usesDate) {
    if (info.date === null) return { failure: "MissingDate" };
    const date = dateParts(info.date);
    if (date === null) return { failure: "InvalidDate" };
    parts = date;
  }
  const render = (topic: string): string => collapse(renderTitle(format, parts, topic));
  const topic = collapse((info.topic ?? "").replace(/\p{Cc}/gu, " "));
  const title = render(topic);
  if (title === "") return { failure: "EmptyTitle" };
  return { title: title.length <= MAX_PAGE_TITLE_LENGTH ? title : shorten(topic, render) };
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
