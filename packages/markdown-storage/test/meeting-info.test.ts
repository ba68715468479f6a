import { readFileSync } from "node:fs";
import { Either } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generatePageTitle, markdownToStorage, type ParsedMarkdown, parseProtocol } from "../src/index.js";
import { extractMeetingInfo, MEETING_INFO_SCAN_LIMIT, parseDate } from "../src/meeting-info.js";
import { growthOf } from "./growth.js";

/** Pieces of protocols that the meeting-info rules read, for the property test. */
const meetingPieces = {
  prefixes: ["", "", "# ", "## ", "- ", "> ", "**", "| ", "---\n", "```\n", "<b>"],
  labels: [
    "Date: ",
    "Datum: ",
    "Datum:** ",
    "Meeting date — ",
    "Дата: ",
    "Date</b>: ",
    "Datum | ",
    "date: ",
    "Topic: ",
    "Thema:  ",
    "Betreff - ",
    "Тема: ",
    "Topic | ",
    "topic: ",
    "Protokoll: ",
  ],
  values: [
    "2025-09-02",
    "2025-02-30",
    "20250902",
    "20250230",
    "02.09.25",
    "31.04.25",
    "29.02.2024",
    "29.02.2025",
    "2 Sep 2025",
    "31 April 2025",
    "3 ноября 2025 г.",
    "Budget",
    "Weekly   sync",
    " \t ",
    "\u00a0",
    "\u2003",
    " |",
    "**",
    "\r",
  ],
};

const fixtures = new URL("./fixtures/meeting-info/", import.meta.url);
const expected: Record<string, { date: string | null; topic: string | null; title: string | null }> =
  JSON.parse(readFileSync(new URL("expected.json", fixtures), "utf8"));

describe("the sample protocols", () => {
  it.each(Object.entries(expected))("%s yields the expected date and topic", (file, want) => {
    const markdown = readFileSync(new URL(file, fixtures), "utf8");
    expect(extractMeetingInfo(markdown, file)).toEqual({ date: want.date, topic: want.topic });
  });
});

describe("parseDate", () => {
  it.each([
    ["2025-09-02", "2025-09-02"],
    ["2025/09/02", "2025-09-02"],
    ["2025-9-2", "2025-09-02"],
    ["02.09.2025", "2025-09-02"],
    ["2.9.2025", "2025-09-02"],
    ["14/10/2025", "2025-10-14"],
    ["2 September 2025", "2025-09-02"],
    ["2nd September 2025", "2025-09-02"],
    ["2 Sep 2025", "2025-09-02"],
    ["30 sept. 2025", "2025-09-30"],
    ["September 30, 2025", "2025-09-30"],
    ["Sept. 30 2025", "2025-09-30"],
    ["Tuesday, September 30, 2025", "2025-09-30"],
    ["Tue, 30 September 2025", "2025-09-30"],
    ["3 ноября 2025", "2025-11-03"],
    ["3 ноября 2025 г.", "2025-11-03"],
    ["3 ноября 2025 года", "2025-11-03"],
    ["понедельник, 3 ноября 2025 г., 10:00", "2025-11-03"],
    ["31 декабря 2025 г. в 18:30", "2025-12-31"],
    ["7. Oktober 2025", "2025-10-07"],
    ["20. März 2025", "2025-03-20"],
    ["1. Mai 2025", "2025-05-01"],
    ["Donnerstag, 20. November 2025, 14:00 Uhr", "2025-11-20"],
    ["03.11.2025 10:00", "2025-11-03"],
    ["2025-09-30 14:00 CET", "2025-09-30"],
    ["Tuesday, 2025-09-30 14:00 CET", "2025-09-30"],
    ["2025-09-02T10:00:00Z", "2025-09-02"],
    ["2025-09-02 10:00–11:30", "2025-09-02"],
    ["September 2, 2025 at 3:00 pm", "2025-09-02"],
    ["29.02.2024", "2024-02-29"],
  ])("reads %s as %s", (text, iso) => {
    expect(parseDate(text)).toBe(iso);
  });

  it.each([
    "2025-02-30",
    "29.02.2025",
    "31.04.2025",
    "31 April 2025",
    "February 29, 2025",
    "2025-13-01",
    "00.01.2025",
    "32 января 2025",
  ])("does not accept the impossible date %s", (text) => {
    expect(parseDate(text)).toBeNull();
  });

  it.each([
    "next Tuesday",
    "2025",
    "09/2025",
    "20250902",
    "12/31/2025",
    "tomorrow, 2025-09-02",
    "2025-09-02 or later",
    "",
  ])("does not read %j as a date", (text) => {
    expect(parseDate(text)).toBeNull();
  });

  it("reads every existing date in every numeric form back to the same day", () => {
    const day = fc.date({
      min: new Date("1900-01-01T00:00:00Z"),
      max: new Date("2199-12-31T00:00:00Z"),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(day, (d) => {
        const iso = d.toISOString().slice(0, 10);
        const [y, m, dd] = iso.split("-");
        for (const text of [iso, `${y}/${m}/${dd}`, `${dd}.${m}.${y}`, `${dd}/${m}/${y}`]) {
          expect(parseDate(text)).toBe(iso);
        }
      }),
    );
  });
});

describe("extractMeetingInfo: the date", () => {
  it.each([
    ["Date: 2025-09-02", "2025-09-02"],
    ["**Date:** 2 September 2025", "2025-09-02"],
    ["- **Дата:** 3 ноября 2025 г.", "2025-11-03"],
    ["| Datum | 20.11.2025 |", "2025-11-20"],
    ["Meeting date — 14/10/2025", "2025-10-14"],
    ["Дата совещания: 03.11.2025 10:00", "2025-11-03"],
    ["Дата встречи: 4 ноября 2025", "2025-11-04"],
    ["Datum: Donnerstag, 20. November 2025, 14:00 Uhr", "2025-11-20"],
    ["Date: Tuesday, September 30, 2025", "2025-09-30"],
    ["DATE: 2025-09-02", "2025-09-02"],
    ["дата: 02.09.2025", "2025-09-02"],
    ["**Date**: 2025-09-02", "2025-09-02"],
    ["Date - 2025-09-02", "2025-09-02"],
    ["* Date: 2025-09-02", "2025-09-02"],
    ["1. Date: 2025-09-02", "2025-09-02"],
    ["- [ ] Date: 2025-09-02", "2025-09-02"],
    ["> Date: 2025-09-02", "2025-09-02"],
    ["**Date & Time:** 2025-09-02, 10:00", "2025-09-02"],
    ["**Date/Time:** 2025-09-02 10:00", "2025-09-02"],
    ["**Date and time:** 2025-09-02 10:00", "2025-09-02"],
    ["Meeting date & time: 2 September 2025", "2025-09-02"],
    ["**Datum/Uhrzeit:** 20.11.2025 14:00", "2025-11-20"],
    ["Datum und Uhrzeit: 20.11.2025, 14:00 Uhr", "2025-11-20"],
    ["Дата и время: 03.11.2025 10:00", "2025-11-03"],
    ["When: Tuesday, 2 September 2025", "2025-09-02"],
    ["Date: 20250902", "2025-09-02"],
    ["Datum: 02.09.25", "2025-09-02"],
  ])("reads the labelled field %j", (markdown, iso) => {
    expect(extractMeetingInfo(`# Weekly\n\n${markdown}\n`).date).toBe(iso);
  });

  it("reads a labelled field in a two-column table row", () => {
    const markdown = "| Field | Value |\n|---|---|\n| Ort | Berlin |\n| **Datum:** | 20.11.2025 |\n";
    expect(extractMeetingInfo(markdown).date).toBe("2025-11-20");
  });

  it("ignores rows of tables with more than two columns", () => {
    const markdown = "| Date | Event | Owner |\n|---|---|---|\n| 2025-09-02 | Kickoff | Ana |\n";
    expect(extractMeetingInfo(markdown).date).toBeNull();
  });

  it("reads a field on a later line of a paragraph", () => {
    const markdown = "**Chair:** Priya\n**Date:** 2025-10-14\n**Attendees:** Tom\n";
    expect(extractMeetingInfo(markdown).date).toBe("2025-10-14");
  });

  it.each([
    "Date: 20250230",
    "Date: ticket 202509021",
    "Date: v20250902",
    "Datum: 31.02.25",
    "Datum: 02.09.25.1",
    "Datum: 1.02.09.25",
  ])("reads no date from the field %j", (markdown) => {
    expect(extractMeetingInfo(`# Weekly\n\n${markdown}\n`).date).toBeNull();
  });

  it("does not take a field whose label only starts like one", () => {
    expect(extractMeetingInfo("Date-based retention: 2025-09-02\nUpdate: 2025-09-03\n").date).toBeNull();
  });

  it("skips a date field without a date and takes the next one", () => {
    expect(extractMeetingInfo("Date: to be decided\n\nMeeting date: 2025-09-03\n").date).toBe("2025-09-03");
  });

  it("skips a date field with an impossible date", () => {
    expect(extractMeetingInfo("Date: 2025-02-30\n\nDatum: 01.03.2025\n").date).toBe("2025-03-01");
  });

  it("does not read a Date line inside a fenced code block", () => {
    const markdown = "```text\nDate: 2025-09-02\n```\n\n~~~\nDate: 2025-09-03\n~~~\n";
    expect(extractMeetingInfo(markdown, "notes.md").date).toBeNull();
  });

  it("does not read a Date line inside an indented code block or raw HTML", () => {
    const markdown = "Intro\n\n    Date: 2025-09-02\n\n<div>\nDate: 2025-09-03\n</div>\n";
    expect(extractMeetingInfo(markdown).date).toBeNull();
  });

  it("prefers a field after a code block over the date in the code", () => {
    const markdown = "```\nDate: 2025-09-02\n```\n\nDate: 2025-09-05\n";
    expect(extractMeetingInfo(markdown).date).toBe("2025-09-05");
  });

  it("reads the date from YAML front matter first", () => {
    const markdown = "---\ndate: 2025-09-01\ntopic: Budget\n---\n# Sync 2025-09-03\n\nDate: 2025-09-02\n";
    expect(extractMeetingInfo(markdown, "sync_20250904.md")).toEqual({ date: "2025-09-01", topic: "Budget" });
  });

  it("reads front matter dates written as timestamps, quoted strings, numbers or in other forms", () => {
    expect(extractMeetingInfo("---\ndate: 2025-09-02T23:30:00+02:00\n---\n").date).toBe("2025-09-02");
    expect(extractMeetingInfo("---\ndate: '02.09.2025'\n---\n").date).toBe("2025-09-02");
    expect(extractMeetingInfo("---\ndate: 20250902\n---\n").date).toBe("2025-09-02");
    expect(extractMeetingInfo("---\nDate: 2 September 2025\n---\n").date).toBe("2025-09-02");
    expect(extractMeetingInfo("\uFEFF---\r\ndate: 2025-09-02\r\n---\r\n").date).toBe("2025-09-02");
  });

  it("treats invalid YAML as no front matter and does not read its lines as fields", () => {
    const markdown = "---\ndate: [2025-09-01\ntopic: : :\n---\nDate: 2025-09-02\n";
    expect(extractMeetingInfo(markdown)).toEqual({ date: "2025-09-02", topic: null });
  });

  it("reads a leading block of valid YAML that is no mapping as the Markdown the page shows", () => {
    // A rule, an H1 (a YAML comment) and a rule: the page shows the heading, so it is the topic.
    expect(extractMeetingInfo("---\n# Weekly sync\n---\n\nText.\n")).toEqual({
      date: null,
      topic: "Weekly sync",
    });
    // A rule, a list item holding a field (a YAML list) and a rule.
    expect(extractMeetingInfo("---\n- Date: 2025-09-02\n---\n").date).toBe("2025-09-02");
  });

  it("reads no YAML from front matter over 16 KB, and survives a deeply nested block", () => {
    const padding = "# a comment line that meeting metadata would not need\n".repeat(400);
    const large = `---\ndate: 2025-09-01\ntopic: Budget\n${padding}---\n# Sync 2025-09-03\n`;
    expect(large.length).toBeGreaterThan(16 * 1024);
    expect(extractMeetingInfo(large)).toEqual({ date: "2025-09-03", topic: "Sync" });
    // 200 KB of `[`: the YAML parser's work grew faster than the text, and together with the
    // rest of a publication it took the whole process down (V8: out of memory).
    const nested = `---\ntopic: ${"[".repeat(200_000)}\n---\n# Board 2025-09-02\n`;
    expect(extractMeetingInfo(parseProtocol(nested), "x.md")).toEqual({ date: "2025-09-02", topic: "Board" });
  });

  it("falls back to the Markdown when the front matter has no usable date", () => {
    const markdown = "---\ndate: soon\nauthor: Ana\n---\nDate: 2025-09-02\n";
    expect(extractMeetingInfo(markdown).date).toBe("2025-09-02");
  });

  it("reads front matter only at the very start of the document", () => {
    // Later, the block is a rule and a setext heading, read as the page shows it (YAML would unquote).
    const markdown = 'Intro\n\n---\ntitle: "Late"\n---\n';
    expect(extractMeetingInfo(markdown).topic).toBe('"Late"');
  });

  it("does not treat an unclosed front matter block as front matter", () => {
    const markdown = "---\n\nDate: 2025-09-02\n";
    expect(extractMeetingInfo(markdown).date).toBe("2025-09-02");
  });

  it("takes the first date in the first H1 when there is no field", () => {
    const markdown = "# Sprint review 2 September 2025 (moved from 01.09.2025)\n\n# Other 2025-10-01\n";
    expect(extractMeetingInfo(markdown, "x_20251111.md").date).toBe("2025-09-02");
  });

  it("does not take a date from an H2 as the H1 date", () => {
    expect(extractMeetingInfo("## Sync 2025-09-02\n", "sync.md").date).toBeNull();
  });

  it("prefers a labelled field over the H1 and the H1 over the file name", () => {
    expect(extractMeetingInfo("# Sync 2025-09-03\n\nDate: 2025-09-02\n", "s_20250904.md").date).toBe(
      "2025-09-02",
    );
    expect(extractMeetingInfo("# Sync 2025-09-03\n", "s_20250904.md").date).toBe("2025-09-03");
  });

  it.each([
    ["meeting_20250902.md", "2025-09-02"],
    ["2025-10-14-architecture-board.md", "2025-10-14"],
    ["protokol_2025_11_03.md", "2025-11-03"],
    ["minutes/2025/sync-20250902.markdown", "2025-09-02"],
    ["C:\\protocols\\sync_2025-09-02.md", "2025-09-02"],
    ["sync_20250230.md", null],
    ["build-120250902.md", null],
    ["weekly-sync.md", null],
  ])("reads the date in the file name %s as %s", (filename, iso) => {
    expect(extractMeetingInfo("Nothing here.\n", filename).date).toBe(iso);
  });

  it("only parses the beginning of a very large protocol", () => {
    // Long lines keep the parse cheap; the filler alone is longer than the scan limit.
    const filler = `${"lorem ".repeat(160)}\n\n`.repeat(Math.ceil(MEETING_INFO_SCAN_LIMIT / 962) + 1);
    const early = extractMeetingInfo(`Date: 2025-09-02\n\n${filler}Topic: Late\n`);
    expect(early).toEqual({ date: "2025-09-02", topic: null });
    expect(extractMeetingInfo(`${filler}Date: 2025-09-02\n`).date).toBeNull();
  });

  it("cuts a protocol without line breaks at the scan limit", () => {
    const line = "lorem ".repeat(Math.ceil(MEETING_INFO_SCAN_LIMIT / 6));
    expect(extractMeetingInfo(`Date: 2025-09-02 ${line}`).date).toBe("2025-09-02");
    expect(extractMeetingInfo(`${line} Date: 2025-09-02`).date).toBeNull();
  });

  it("stays linear on long runs of separators, spaces and dots", () => {
    expect(extractMeetingInfo(`# Sync ${"- ".repeat(20_000)}x\n`).topic).toMatch(/^Sync - - .* x$/);
    expect(extractMeetingInfo(`Date: 2025-09-02${" ".repeat(20_000)}x\n`).date).toBe("2025-09-02");
    expect(parseDate(`2025-09-02${".".repeat(50_000)}x`)).toBeNull();
    expect(parseDate(`2025-09-02 ${"\t ".repeat(50_000)}x`)).toBeNull();
    // Four times the input, about four times the work (quadratic backtracking would be sixteen).
    // Parsed beforehand: the scan and its patterns are timed, not micromark, whose allocations make
    // the collector's share grow with the input on a busy machine.
    const parsedAt = (text: (n: number) => string) => {
      const parsed = new Map<number, ParsedMarkdown>();
      return (n: number) => {
        const events = parsed.get(n) ?? parseProtocol(text(n));
        parsed.set(n, events);
        extractMeetingInfo(events);
      };
    };
    expect(
      growthOf(
        parsedAt((n) => `# Sync ${"- ".repeat(n)}x\n`),
        5_000,
      ),
    ).toBeLessThan(10);
    expect(
      growthOf(
        parsedAt((n) => `Date: 2025-09-02${" ".repeat(n)}x\n`),
        5_000,
      ),
    ).toBeLessThan(10);
    expect(growthOf((n) => parseDate(`2025-09-02${".".repeat(n)}x`), 12_500)).toBeLessThan(10);
    expect(growthOf((n) => parseDate(`2025-09-02 ${"\t ".repeat(n)}x`), 12_500)).toBeLessThan(10);
  });

  it("handles a 5 MB protocol without parsing all of it", () => {
    const tables = `| a | b |\n|---|---|\n${`| 1 | ${"x".repeat(1000)} |\n`.repeat(5_000)}\n`;
    expect(extractMeetingInfo(`Date: 2025-09-02\nTopic: Big\n\n${tables}`)).toEqual({
      date: "2025-09-02",
      topic: "Big",
    });
    expect(extractMeetingInfo(`# Big\n\nDate: 2025-09-02\n\n${tables}`)).toEqual({
      date: "2025-09-02",
      topic: "Big",
    });
    // A full parse of 5 MB takes minutes on a slow machine and would hit the test timeout.
  });

  it("finds a field beyond the first 8 KiB when the top of the protocol lacks one", () => {
    const filler = `${"lorem ".repeat(160)}\n\n`.repeat(10);
    expect(extractMeetingInfo(`# Late fields\n\n${filler}Date: 2025-09-02\n`)).toEqual({
      date: "2025-09-02",
      topic: "Late fields",
    });
    expect(extractMeetingInfo(`Date: 2025-09-03\n\n${filler}Topic: Late\n`)).toEqual({
      date: "2025-09-03",
      topic: "Late",
    });
  });
});

describe("extractMeetingInfo: the topic", () => {
  it.each([
    ["Topic: Confluence Integration", "Confluence Integration"],
    ["Subject: Budget 2026", "Budget 2026"],
    ["**Тема:** Планирование релиза 4.2", "Планирование релиза 4.2"],
    ["Thema: Datenschutz", "Datenschutz"],
    ["- Betreff — Hybride Arbeit", "Hybride Arbeit"],
    ["| Topic | *Release* `4.2` |", "Release 4.2"],
    ["TOPIC:   lots    of   space  ", "lots of space"],
    ["**Title:** Roadmap", "Roadmap"],
    ["**Meeting Title:** Roadmap Q4", "Roadmap Q4"],
    ["Meeting topic: Hiring", "Hiring"],
    ["Titel: Haushalt 2026", "Haushalt 2026"],
  ])("reads the labelled field %j", (markdown, topic) => {
    expect(extractMeetingInfo(`# Heading\n\n${markdown}\n`).topic).toBe(topic);
  });

  it("prefers front matter topic over title over fields", () => {
    expect(extractMeetingInfo("---\ntitle: From title\ntopic: From topic\n---\nTopic: Field\n").topic).toBe(
      "From topic",
    );
    expect(extractMeetingInfo("---\ntitle: '  From   title '\n---\nTopic: Field\n").topic).toBe("From title");
    expect(extractMeetingInfo("---\ntitle: ''\n---\nTopic: Field\n").topic).toBe("Field");
  });

  it("does not read a Topic line inside a code block", () => {
    const markdown = "# Real topic\n\n```\nTopic: Fake\n```\n";
    expect(extractMeetingInfo(markdown).topic).toBe("Real topic");
  });

  it("takes the first H1 as plain text", () => {
    const markdown =
      "# **Release** _planning_ for `v4.2` with [Ana](https://x.test) ~~and Tom~~ ![logo](l.png)\n";
    expect(extractMeetingInfo(markdown).topic).toBe("Release planning for v4.2 with Ana and Tom logo");
  });

  it("reads raw HTML in the H1 as the page shows it, so the title keeps what the heading shows", () => {
    const markdown = "# Review of <Service> API\n\nDate: 2025-09-02\n";
    expect(markdownToStorage(markdown)).toContain("<h1>Review of &lt;Service&gt; API</h1>");
    const info = extractMeetingInfo(markdown);
    expect(info).toEqual({ date: "2025-09-02", topic: "Review of <Service> API" });
    expect(generatePageTitle(info)).toEqual(Either.right("20250902 - Review of <Service> API"));
  });

  it("reads raw HTML in a topic field as the page shows it, comments as nothing, <br> as a break", () => {
    expect(extractMeetingInfo("Topic: Budget <i>2026</i> <!-- draft -->\n").topic).toBe("Budget <i>2026</i>");
    expect(extractMeetingInfo("# Sync <!-- draft --> notes<br>Q3\n").topic).toBe("Sync notes Q3");
    expect(extractMeetingInfo("# Sync <b>2025-09-02</b>\n")).toEqual({ date: "2025-09-02", topic: "Sync" });
  });

  it("still reads a field whose label is wrapped in HTML tags", () => {
    expect(extractMeetingInfo("<b>Date:</b> 2025-09-02\n<b>Topic</b>: Budget\n")).toEqual({
      date: "2025-09-02",
      topic: "Budget",
    });
    expect(extractMeetingInfo("| <b>Datum</b> | 20.11.2025 |\n|---|---|\n").date).toBe("2025-11-20");
  });

  it("takes a setext H1 and collapses its whitespace", () => {
    expect(extractMeetingInfo("Incident   review\nINC-4411\n===\n").topic).toBe("Incident review INC-4411");
  });

  it("does not take a setext H2 or an ATX H2 as the H1", () => {
    expect(extractMeetingInfo("Agenda\n---\n\n## Notes\n", "team-sync.md").topic).toBe("team sync");
  });

  it("does not take an H1 inside a fenced code block", () => {
    expect(extractMeetingInfo("```md\n# Fake\n```\n", "real.md").topic).toBe("real");
  });

  it.each([
    ["Meeting Protocol: Confluence Integration", "Confluence Integration"],
    ["Meeting Notes – Budget", "Budget"],
    ["Minutes - Hiring plan", "Hiring plan"],
    ["Протокол: Релиз 4.2", "Релиз 4.2"],
    ["Протокол совещания — Релиз 4.2", "Релиз 4.2"],
    ["Protokoll: Betriebsrat", "Betriebsrat"],
    ["protokoll der sitzung: Betriebsrat", "Betriebsrat"],
  ])("takes the rest of the generic heading %j", (heading, topic) => {
    expect(extractMeetingInfo(`# ${heading}\n`).topic).toBe(topic);
  });

  it.each([
    "Meeting Protocol",
    "Meeting Notes",
    "Minutes",
    "Протокол",
    "Протокол совещания",
    "Protokoll",
    "MEETING MINUTES",
  ])("skips the generic heading %j and uses the file name", (heading) => {
    expect(extractMeetingInfo(`# ${heading}\n`, "board_2025-10-14.md").topic).toBe("board");
    expect(extractMeetingInfo(`# ${heading}\n`).topic).toBeNull();
  });

  it("keeps a heading that only starts with a generic word", () => {
    expect(extractMeetingInfo("# Minutes matter\n").topic).toBe("Minutes matter");
  });

  it.each([
    ["Sprint review 2025-09-02", "Sprint review"],
    ["2025-09-02 Sprint review", "Sprint review"],
    ["Sprint review — 2 September 2025", "Sprint review"],
    ["Sprint review (02.09.2025)", "Sprint review"],
    ["Protokoll vom 20.11.2025", null],
    ["Протокол совещания от 3 ноября 2025 г.", null],
    ["Meeting Notes: Budget, Tuesday, September 30, 2025", "Budget"],
    ["2025-09-02", null],
  ])("removes the date from the H1 %j", (heading, topic) => {
    const info = extractMeetingInfo(`# ${heading}\n`);
    expect(info.topic).toBe(topic);
    expect(info.date).not.toBeNull();
  });

  it.each([
    ["2025-10-14-architecture-board.md", "architecture board"],
    ["weekly-sync.md", "weekly sync"],
    ["team_sync_2025_09_02.md", "team sync"],
    ["Release Planning 20250902.md", "Release Planning"],
    ["dir/sub/retro.2025-09-02.md", "retro"],
    ["sync_20250230.md", "sync 20250230"],
    ["20250902.md", null],
    ["meeting_20250902.md", null],
    ["meeting-notes-2025-09-02.md", null],
    ["Protokoll_2025-11-20.md", null],
    ["minutes.md", null],
  ])("derives the topic from the file name %s", (filename, topic) => {
    expect(extractMeetingInfo("Nothing here.\n", filename).topic).toBe(topic);
  });

  it("returns nulls for an empty protocol without a file name", () => {
    expect(extractMeetingInfo("")).toEqual({ date: null, topic: null });
  });

  it("never throws and only returns existing dates and non-empty topics", () => {
    // Random text alone almost never holds a label or a date: build protocols from the pieces the
    // rules read (labels, dates that exist and that do not, headings, front matter, tables, odd
    // white space), so dates and topics are found in most runs and the checks below do run.
    const { prefixes, labels, values } = meetingPieces;
    const value = fc.array(fc.constantFrom(...values), { minLength: 1, maxLength: 3 });
    const labelled = fc
      .tuple(fc.constantFrom(...prefixes), fc.constantFrom(...labels), value)
      .map(([prefix, label, parts]) => prefix + label + parts.join(""));
    const other = fc
      .array(
        fc.oneof(fc.constantFrom(...prefixes, ...values), fc.string({ unit: "grapheme", maxLength: 6 })),
        {
          maxLength: 4,
        },
      )
      .map((parts) => parts.join(""));
    const protocol = fc
      .tuple(fc.array(fc.oneof(labelled, other), { maxLength: 8 }), fc.constantFrom("\n", "\n\n", "\r\n"))
      .map(([lines, end]) => lines.join(end));
    const filename = fc.option(
      fc
        .array(fc.constantFrom("team", "_", "-", " ", "2025", "0230", "0902", "20250902", "meeting", ".md"), {
          maxLength: 6,
        })
        .map((parts) => parts.join("")),
    );
    const seen = { date: 0, topic: 0 };
    fc.assert(
      fc.property(protocol, filename, (markdown, name) => {
        const info = extractMeetingInfo(markdown, name ?? undefined);
        if (info.date !== null) {
          seen.date++;
          expect(parseDate(info.date)).toBe(info.date);
        }
        if (info.topic !== null) {
          seen.topic++;
          expect(info.topic).toBe(info.topic.replace(/\s+/gu, " ").trim());
        }
        expect(info.topic).not.toBe("");
      }),
      { numRuns: 500 },
    );
    expect(seen.date).toBeGreaterThan(50);
    expect(seen.topic).toBeGreaterThan(150);
  });
});
