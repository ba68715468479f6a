import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { extractParticipants, markdownToStorage, parseProtocol } from "../src/index.js";
import { growthOf } from "./growth.js";

const fixtures = new URL("./fixtures/meeting-info/", import.meta.url);

describe("extractParticipants", () => {
  it("reads the list under a participants heading in English, German or Russian", () => {
    expect(extractParticipants("## Teilnehmer\n- Anna\n- Jens\n\nText")).toEqual(["Anna", "Jens"]);
    expect(extractParticipants("**Участники:**\n* Иван\n* Мария")).toEqual(["Иван", "Мария"]);
    expect(extractParticipants("# Notes\n- not a participant")).toEqual([]);
    expect(extractParticipants("## Teilnehmende\n- Frau Müller\n- Herr Özdemir")).toEqual([
      "Frau Müller",
      "Herr Özdemir",
    ]);
  });

  it("reads a labelled line of names, keeping commas inside parentheses", () => {
    expect(
      extractParticipants("**Date:** 2025-10-14\n**Attendees:** Priya Raman, Tom Becker (chair); Ana Lima"),
    ).toEqual(["Priya Raman", "Tom Becker (chair)", "Ana Lima"]);
    expect(extractParticipants("**Участники:** Иванов И. И., Петрова А. С.")).toEqual([
      "Иванов И. И.",
      "Петрова А. С.",
    ]);
  });

  it("gives the names as the page shows them: link text, escapes and references decoded", () => {
    const list = "## Attendees\n- [Alice Smith](mailto:alice@example.com)\n- bob_jones\n- `carol`\n";
    expect(extractParticipants(list)).toEqual(["Alice Smith", "bob_jones", "carol"]);
    expect(markdownToStorage(list)).toContain("<li>bob_jones</li>");
    const line = "**Attendees:** Müller &amp; Co, A\\_B\n";
    expect(extractParticipants(line)).toEqual(["Müller & Co", "A_B"]);
    expect(markdownToStorage(line).trim()).toBe("<p><strong>Attendees:</strong> Müller &amp; Co, A_B</p>");
  });

  it("reads ordered, task and nested lists, in a quote or a list, under a setext heading", () => {
    expect(extractParticipants("## Participants\n1. Ann\n2. Ben\n")).toEqual(["Ann", "Ben"]);
    expect(extractParticipants("Participants\n===\n\n- [x] Ann\n- [ ] Bob\n  - Cy\n")).toEqual([
      "Ann",
      "Bob",
      "Cy",
    ]);
    expect(extractParticipants("> - **Present:**\n>   - Ann\n>   - Bo\n")).toEqual(["Ann", "Bo"]);
  });

  it("reads a two-cell table row", () => {
    expect(extractParticipants("| Attendees | Ann, Bo |\n|---|---|\n")).toEqual(["Ann", "Bo"]);
  });

  it("does not read code blocks or HTML blocks", () => {
    expect(extractParticipants("```\nParticipants: Mallory\n```\n\n## Attendees\n- Ann\n")).toEqual(["Ann"]);
    expect(extractParticipants("<div>\nParticipants: Mallory\n</div>\n")).toEqual([]);
    expect(extractParticipants("    Attendees: Mallory\n")).toEqual([]);
  });

  it("skips a label that no list follows and takes a later one", () => {
    expect(extractParticipants("## Participants\n\nNone listed.\n\nAttendees: Zoe\n")).toEqual(["Zoe"]);
  });

  it("gives the same names for a parse as for the text, and for the sample protocols", () => {
    const read = (file: string) => readFileSync(new URL(file, fixtures), "utf8");
    const samples: Record<string, Array<string>> = {
      "meeting_20250902.md": ["John Doe", "Jane Smith"],
      "2025-10-14-architecture-board.md": ["Priya Raman", "Tom Becker", "Ana Lima", "Wei Zhang"],
      "protokol_2025-11-03.md": ["Иванов И. И.", "Петрова А. С.", "Сидоров П. П."],
      "betriebsrat_20251120.md": ["Frau Müller", "Herr Özdemir"],
      "incident-review_2025-09-30.md": [],
      "weekly-sync.md": [],
    };
    for (const [file, names] of Object.entries(samples)) {
      expect([file, extractParticipants(read(file))]).toEqual([file, names]);
      expect([file, extractParticipants(parseProtocol(read(file)))]).toEqual([file, names]);
    }
  });

  it("stays linear on a long line of names", () => {
    expect(extractParticipants(`Attendees: ${"a,".repeat(200_000)}(b`)).toHaveLength(200_001);
    // Four times the names, about four times the work (quadratic would be sixteen).
    expect(growthOf((n) => extractParticipants(`Attendees: ${"a,".repeat(n)}(b`), 12_500)).toBeLessThan(10);
  });
});
