// Markdown to Confluence storage format, meeting date/topic and participants extraction, page titles.
export { contentHash, normalizeMarkdown } from "./content-hash.js";
export {
  type MeetingSummary,
  markdownToStorage,
  type PublicationMetadata,
  type StorageOptions,
} from "./markdown-to-storage.js";
export { extractMeetingInfo, MEETING_INFO_SCAN_LIMIT, type MeetingInfo, parseDate } from "./meeting-info.js";
export { generatePageTitle, PageTitleError } from "./page-title.js";
export { formatPageTitle, MAX_PAGE_TITLE_LENGTH, type PageTitleFailure } from "./page-title-format.js";
export { type ParsedMarkdown, type ParseOptions, parseProtocol } from "./parse-protocol.js";
export { extractParticipants } from "./participants.js";
