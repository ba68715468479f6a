import { describe, expect, it } from "vitest";
import { isoDate, renderDueDate } from "../src/due-date.js";

describe("renderDueDate", () => {
  it.each([
    ["Ship (due 2026-07-27)", 'Ship <time datetime="2026-07-27" />'],
    ["Отчёт (срок: 31.12.2026)", 'Отчёт <time datetime="2026-12-31" />'],
    ["Prüfen (fällig: 01.02.2026)", 'Prüfen <time datetime="2026-02-01" />'],
    ["Prüfen (Fällig: 2026-02-01)", 'Prüfen <time datetime="2026-02-01" />'],
    ["Send (DUE 2026-01-05) ", 'Send <time datetime="2026-01-05" /> '],
  ])("turns the trailing due date in %j into a time element", (input, output) => {
    expect(renderDueDate(input)).toBe(output);
  });

  it("leaves text alone when the date is invalid or not at the end", () => {
    expect(renderDueDate("x (due 2026-13-01)")).toBe("x (due 2026-13-01)");
    expect(renderDueDate("x (due 2026-01-01) later")).toBe("x (due 2026-01-01) later");
    expect(renderDueDate("x (soon 2026-01-01)")).toBe("x (soon 2026-01-01)");
  });
});

describe("isoDate", () => {
  it("rejects dates that do not exist", () => {
    expect(isoDate(2026, 2, 29)).toBeUndefined();
    expect(isoDate(2024, 2, 29)).toBe("2024-02-29");
  });
});
