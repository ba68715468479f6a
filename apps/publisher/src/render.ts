/**
 * From a stored protocol to the page Minutes wants in Confluence: title (the event's meeting
 * date and topic first, then what the text says, then the event time), storage body and a
 * content hash. The hash covers everything that shapes the page, so "unchanged" means the page
 * would be byte-identical and no new version is written.
 */
import { createHash } from "node:crypto";
import type { MinutesConfig } from "@minutes/contracts";
// The light entry (no Effect): this module is what a render thread loads (render-thread.ts).
import {
  extractMeetingInfo,
  extractParticipants,
  formatPageTitle,
  markdownToStorage,
  type ParsedMarkdown,
  parseProtocol,
} from "@minutes/markdown-storage/convert";
import { type RoutableProtocol, type Route, type RoutingSettings, routeProtocol } from "./routing.js";

/**
 * The settings rendering and routing read: plain data without the token or any other secret, so
 * that they can be handed to a render thread. `deployment` is decided (see `renderSettingsOf`).
 */
export type RenderSettings = RoutingSettings &
  Pick<
    MinutesConfig["confluence"],
    "page_title_format" | "advanced_settings" | "include_metadata" | "allow_safe_html"
  > & { readonly deployment: "cloud" | "datacenter" };

/** The protocol fields rendering needs. */
export interface RenderableProtocol {
  readonly jobId: string;
  readonly markdown: string;
  readonly filename: string;
  readonly occurredAt: string;
  readonly metadata: {
    readonly meetingDate?: string | undefined;
    readonly topic?: string | undefined;
    /** The day of `occurredAt` in the sender's time zone (`occurredAt` itself is an instant). */
    readonly occurredOn?: string | undefined;
  };
}

/** The page to write. */
export interface RenderedPage {
  readonly title: string;
  readonly body: string;
  readonly meetingDate: string;
  readonly topic: string | null;
  /** sha256 over the Markdown, title, labels and every setting that shapes the body (the deployment too). */
  readonly contentHash: string;
}

/** Bumped when rendering changes in a way that should republish every page. */
// 2: code blocks in tight list items kept their line breaks only from then on, and HTML comments
// stopped showing: a replay (`POST /api/replays`) rewrites the pages published before.
// 3: labelled field lines (`Date: …` / `Topic: …`) stay separate lines, titles keep inline raw HTML
// the heading shows, Cloud code blocks use Cloud's own language ids, and participants are read from
// the parse (names as the page shows them), and links to the protocol's own headings work (anchor
// macros): a replay rewrites the pages published before.
const RENDER_REVISION = 3;

/** A protocol's meeting date and topic, with the one parse of its text that rendering converts. */
export interface ProtocolMeeting {
  readonly meetingDate: string;
  /**
   * Where the date came from: the event's `meetingDate`, the protocol's text (front matter, a
   * labelled field, the H1, the file name), or the day the event was sent, for want of both.
   */
  readonly dateFrom: "event" | "text" | "sent";
  readonly topic: string | null;
  /** The protocol's Markdown, parsed once for the meeting info and the page body. */
  readonly parsed: ParsedMarkdown;
}

/**
 * The meeting's date and topic: the event's own first, then the text, then the event time (its day
 * where the event was sent). Parses
 * the protocol once; pass the result to {@link renderProtocol} so that it converts the same parse.
 */
export const meetingOf = (protocol: RenderableProtocol): ProtocolMeeting => {
  const parsed = parseProtocol(protocol.markdown);
  // A blank topic is no topic: the protocol's own is used, not a title with none.
  const givenTopic = protocol.metadata.topic?.trim() === "" ? undefined : protocol.metadata.topic;
  const needsText = protocol.metadata.meetingDate === undefined || givenTopic === undefined;
  const found = needsText ? extractMeetingInfo(parsed, protocol.filename) : { date: null, topic: null };
  return {
    meetingDate:
      protocol.metadata.meetingDate ??
      found.date ??
      protocol.metadata.occurredOn ??
      protocol.occurredAt.slice(0, 10),
    dateFrom: protocol.metadata.meetingDate !== undefined ? "event" : found.date !== null ? "text" : "sent",
    topic: givenTopic ?? found.topic,
    parsed,
  };
};

/**
 * Renders a protocol into a page title and storage body. `meeting` is {@link meetingOf} the same
 * protocol when the caller has it already: its parse is converted, so the text is parsed once.
 */
export const renderProtocol = (
  protocol: RenderableProtocol,
  confluence: RenderSettings,
  labels: ReadonlyArray<string>,
  template?: string,
  meeting: ProtocolMeeting = meetingOf(protocol),
): RenderedPage => {
  const { meetingDate, topic, parsed } = meeting;
  const formatted = formatPageTitle({ date: meetingDate, topic }, confluence.page_title_format);
  const title = "title" in formatted ? formatted.title : `${meetingDate} ${topic ?? protocol.jobId}`.trim();
  const macros = confluence.advanced_settings.content_macros;
  // Code macro languages differ between Cloud and Data Center.
  const deployment = confluence.deployment;
  const settings = {
    revision: RENDER_REVISION,
    // Only Data Center's output changed when the converter learned the deployment (its code
    // languages), so only its pages get a new hash: a replay rewrites them, and Cloud pages, whose
    // bodies are byte-identical, keep theirs and are not written again.
    ...(deployment === "datacenter" ? { deployment } : {}),
    title,
    labels: [...labels].sort(),
    toc: macros.add_toc,
    date: macros.add_date_macro,
    panel: macros.add_info_panel,
    metadata: confluence.include_metadata,
    safeHtml: confluence.allow_safe_html,
    template: template ?? null,
  };
  const contentHash = createHash("sha256")
    .update(JSON.stringify(settings))
    .update("\n")
    .update(protocol.markdown)
    .digest("hex");
  // The event time, not the wall clock: the same protocol renders to the same body.
  const metadata = {
    jobId: protocol.jobId,
    sourceFile: protocol.filename,
    generatedAt: protocol.occurredAt,
    contentHash,
  };
  // From the parse rendering converts, so names read as the page shows them (once, for both uses).
  const participants = macros.add_info_panel || template !== undefined ? extractParticipants(parsed) : [];
  const options = {
    deployment,
    addToc: macros.add_toc,
    addDateMacro: macros.add_date_macro,
    addInfoPanel: macros.add_info_panel,
    allowSafeHtml: confluence.allow_safe_html,
    meeting: {
      date: meetingDate,
      topic,
      ...(macros.add_info_panel ? { participants } : {}),
    },
  };
  const body =
    template === undefined
      ? markdownToStorage(parsed, {
          ...options,
          includeMetadata: confluence.include_metadata,
          metadata,
        })
      : fillTemplate(template, {
          content: markdownToStorage(parsed, options),
          date: `<time datetime="${meetingDate}" />`,
          topic: escapeXml(topic ?? ""),
          metadata: confluence.include_metadata
            ? markdownToStorage("", { includeMetadata: true, metadata })
            : "",
          participants: escapeXml(participants.join(", ")),
        });
  return { title, body, meetingDate, topic, contentHash };
};

/** A protocol's route and page, and where its meeting date came from. */
export interface PreparedProtocol {
  readonly route: Route;
  readonly rendered: RenderedPage;
  readonly dateFrom: ProtocolMeeting["dateFrom"];
}

/** The protocol fields routing and rendering read. */
export type PreparableProtocol = RenderableProtocol & { readonly metadata: RoutableProtocol["metadata"] };

/**
 * The route and the page of a protocol, from one parse of its text (what a publication does before
 * it looks at Confluence). Plain data in and out: a render thread runs it too.
 */
export const prepareProtocol = (
  protocol: PreparableProtocol,
  settings: RenderSettings,
  template?: string,
): PreparedProtocol => {
  const meeting = meetingOf(protocol);
  const route = routeProtocol(
    { filename: protocol.filename, topic: meeting.topic, metadata: protocol.metadata },
    settings,
  );
  const rendered = renderProtocol(protocol, settings, route.labels, template, meeting);
  return { route, rendered, dateFrom: meeting.dateFrom };
};

/** The placeholders a page template may use. */
export const TEMPLATE_PLACEHOLDERS = ["content", "date", "topic", "metadata", "participants"] as const;

/** Replaces `{{name}}` placeholders in one pass (a value containing `{{…}}` stays as it is). */
export const fillTemplate = (
  template: string,
  values: Readonly<Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string>>,
): string =>
  template.replace(
    /\{\{\s*(content|date|topic|metadata|participants)\s*\}\}/g,
    (_, name: string) => values[name as (typeof TEMPLATE_PLACEHOLDERS)[number]],
  );

const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
