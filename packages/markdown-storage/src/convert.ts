// Everything that turns a protocol into a page, without Effect: the entry a render thread loads
// (`@minutes/markdown-storage/convert`). Effect's modules would more than double its start-up
// time and memory; `generatePageTitle` (the `Either` form of `formatPageTitle`) stays in the main entry.
export {
  type MeetingSummary,
  markdownToStorage,
  type PublicationMetadata,
  type StorageOptions,
} from "./markdown-to-storage.js";
export { extractMeetingInfo, type MeetingInfo } from "./meeting-info.js";
export {
  DEFAULT_PAGE_TITLE_FORMAT,
  formatPageTitle,
  MAX_PAGE_TITLE_LENGTH,
  type PageTitleFailure,
} from "./page-title-format.js";
export { type ParsedMarkdown, type ParseOptions, parseProtocol } from "./parse-protocol.js";
export { extractParticipants } from "./participants.js";
