/**
 * Where a protocol goes and which labels it carries: the event's own `spaceKey`/`parentPageId`
 * first, then the first routing rule that matches, then the configured defaults. Labels are
 * normalised to what Confluence accepts; the ones that cannot be are reported, not sent.
 */
import { canonicalSpaceKey, type MinutesConfig, type RoutingRule } from "@minutes/contracts";

/** What routing decided for one protocol. */
export interface Route {
  readonly spaceKey: string;
  readonly parentPageId: string | null;
  readonly labels: ReadonlyArray<string>;
  readonly invalidLabels: ReadonlyArray<string>;
  /** The name (or index) of the rule that matched, if any. */
  readonly rule: string | null;
}

/** The event fields routing looks at. */
export interface RoutableProtocol {
  readonly filename: string;
  readonly topic: string | null;
  readonly metadata: {
    readonly spaceKey?: string | undefined;
    readonly parentPageId?: string | undefined;
    readonly labels?: ReadonlyArray<string> | undefined;
    readonly source?: string | undefined;
  };
}

/** The settings routing reads. */
export type RoutingSettings = Pick<
  MinutesConfig["confluence"],
  "routing_rules" | "space_key" | "parent_page_id" | "advanced_settings"
>;

/** Decides space, parent and labels for a protocol. */
export const routeProtocol = (protocol: RoutableProtocol, confluence: RoutingSettings): Route => {
  const index = confluence.routing_rules.findIndex((rule) => ruleMatches(rule, protocol));
  const rule = index >= 0 ? confluence.routing_rules[index] : undefined;
  const { labels, invalid } = normaliseLabels([
    ...confluence.advanced_settings.page_labels,
    ...(rule?.labels ?? []),
    ...(protocol.metadata.labels ?? []),
  ]);
  return {
    // As Confluence knows it: "meetings" is space MEETINGS, and its records must say so.
    spaceKey: canonicalSpaceKey(protocol.metadata.spaceKey ?? rule?.space_key ?? confluence.space_key),
    parentPageId:
      protocol.metadata.parentPageId ??
      (rule && rule.parent_page_id !== undefined ? rule.parent_page_id : confluence.parent_page_id),
    labels,
    invalidLabels: invalid,
    rule: rule ? (rule.name ?? `#${index + 1}`) : null,
  };
};

/** Maximum label length Confluence accepts. */
const MAX_LABEL_LENGTH = 255;
/** Characters Confluence refuses in a label name. */
const FORBIDDEN = /[!#&()*,.:;<>?@[\]^]/u;

/**
 * Lower case, whitespace → `-`, duplicates removed. A label that is empty, too long or holds a
 * character Confluence refuses is returned in `invalid` instead.
 */
export const normaliseLabels = (
  raw: ReadonlyArray<string>,
): { readonly labels: ReadonlyArray<string>; readonly invalid: ReadonlyArray<string> } => {
  const labels = new Set<string>();
  const invalid: Array<string> = [];
  for (const label of raw) {
    const name = label.trim().toLowerCase().replace(/\s+/gu, "-");
    if (name === "" || name.length > MAX_LABEL_LENGTH || FORBIDDEN.test(name) || /\p{Cc}/u.test(name)) {
      invalid.push(label);
    } else {
      labels.add(name);
    }
  }
  return { labels: [...labels], invalid };
};

// internal

const ruleMatches = (rule: RoutingRule, protocol: RoutableProtocol): boolean => {
  const m = rule.match;
  // Sources and labels compare as the page will carry them: case-insensitively, and labels in the
  // form normaliseLabels gives them ("Board Meeting" matches a rule for "board-meeting").
  if (m.source !== undefined && m.source.toLowerCase() !== protocol.metadata.source?.toLowerCase())
    return false;
  if (m.labels !== undefined) {
    const have = new Set(normaliseLabels(protocol.metadata.labels ?? []).labels);
    if (!normaliseLabels(m.labels).labels.every((l) => have.has(l))) return false;
  }
  if (m.topic_pattern !== undefined && !safeRegex(m.topic_pattern).test(protocol.topic ?? "")) return false;
  if (m.filename_pattern !== undefined && !safeRegex(m.filename_pattern).test(protocol.filename))
    return false;
  return true;
};

const safeRegex = (pattern: string): RegExp => {
  try {
    return new RegExp(pattern, "iu");
  } catch {
    return /$^/u;
  }
};
