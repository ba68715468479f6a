/**
 * Builds a Confluence page title from a meeting date and topic and a format such as
 * `YYYYMMDD - {topic}`. The result is an `Either`: plain callers read it synchronously, and inside
 * `Effect.gen` it is yielded like an effect, so there is one function and no thrown exceptions.
 * Titles are capped at 255 UTF-16 code units (Confluence's limit), cutting the topic between graphemes.
 */
import { Either, Schema } from "effect";
import type { MeetingInfo } from "./meeting-info.js";
import { DEFAULT_PAGE_TITLE_FORMAT, formatPageTitle } from "./page-title-format.js";

export { DEFAULT_PAGE_TITLE_FORMAT, MAX_PAGE_TITLE_LENGTH } from "./page-title-format.js";

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
  const result = formatPageTitle(info, format);
  return "title" in result
    ? Either.right(result.title)
    : Either.left(new PageTitleError({ reason: result.failure, format, date: info.date }));
};
