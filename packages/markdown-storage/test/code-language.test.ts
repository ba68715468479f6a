import { describe, expect, it } from "vitest";
import { confluenceLanguage } from "../src/code-language.js";

describe("confluenceLanguage", () => {
  it.each([
    ["js", "js"],
    ["JavaScript", "js"],
    ["sh", "bash"],
    ["shell", "bash"],
    ["yml", "yaml"],
    ["c++", "cpp"],
    ["C#", "c#"],
    ["py", "python"],
    ["html", "xml"],
    ["ts", "typescript"],
    ["language-sql", "sql"],
    ["python {title=x}", "python"],
  ])("maps the info string %s to %s", (info, id) => {
    expect(confluenceLanguage(info)).toBe(id);
  });

  it("maps unknown, empty and missing languages to none", () => {
    expect(confluenceLanguage("brainfuck")).toBe("none");
    expect(confluenceLanguage("")).toBe("none");
    expect(confluenceLanguage(undefined)).toBe("none");
    expect(confluenceLanguage("constructor")).toBe("none");
  });
});
