import { describe, expect, it } from "vitest";
import { cloudLanguageIds, confluenceLanguage } from "../src/code-language.js";

describe("confluenceLanguage", () => {
  it.each([
    ["js", "js"],
    ["JavaScript", "js"],
    ["sh", "bash"],
    ["shell", "bash"],
    ["yml", "yaml"],
    ["c++", "cpp"],
    ["c", "c"],
    ["jsx", "jsx"],
    ["tsx", "tsx"],
    ["pascal", "pas"],
    ["delphi", "pas"],
    ["terraform", "hcl"],
    ["hcl", "hcl"],
    ["nginx", "nginx"],
    ["proto", "protobuf"],
    ["dart", "dart"],
    ["elixir", "elixir"],
    ["clojure", "clojure"],
    ["objc", "objective-c"],
    ["objective-c", "objective-c"],
    ["matlab", "matlab"],
    ["latex", "tex"],
    ["vb.net", "vbnet"],
    ["julia", "julia"],
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

describe("confluenceLanguage for Cloud", () => {
  // STORAGE-FORMAT.md §4.1, Cloud set (confluencebuilder's v2 map), spelled exactly as listed there.
  const cloud = new Set([
    ...["abap", "actionscript3", "ada", "applescript", "arduino", "autoit", "bash", "c", "c#", "clojure"],
    ...["coffeescript", "coldfusion", "cpp", "css", "cuda", "d", "dart", "diff", "docker", "elixir", "erl"],
    ...["fortran", "foxpro", "go", "graphql", "groovy", "handlebars", "haskell", "haxe", "hcl", "html"],
    ...["java", "javafx", "js", "json", "jsx", "julia", "kotlin", "livescript", "lua", "markdown"],
    ...["mathematica", "matlab", "nginx", "none", "objective-c", "objective-j", "ocaml", "octave", "pas"],
    ...["perl", "php", "powershell", "prolog", "protobuf", "puppet", "python", "qbs", "r", "racket"],
    ...["restructuredtext", "ruby", "rust", "sass", "scala", "scheme", "smalltalk", "splunk-spl", "sql"],
    ...["standardml", "swift", "tcl", "tex", "toml", "tsx", "typescript", "vala", "vb", "vbnet"],
    ...["verilog", "vhdl", "xml", "xquery", "yaml"],
  ]);

  it("only ever gives ids on Cloud's list", () => {
    for (const id of cloudLanguageIds()) expect([id, cloud.has(id)]).toEqual([id, true]);
  });

  it("gives every id on Cloud's list (except html, written xml as on Data Center) for its own name", () => {
    for (const id of cloud) if (id !== "html") expect(confluenceLanguage(id)).toBe(id);
    expect(confluenceLanguage("html")).toBe("xml");
  });
});

describe("confluenceLanguage for Data Center", () => {
  // STORAGE-FORMAT.md §4.1: Data Center's built-in ids and the aliases the reference lists; any
  // other id saves but renders "Error rendering macro 'code': Invalid value specified for parameter".
  const dataCenter = new Set([
    ...["none", "actionscript3", "applescript", "bash", "csharp", "coldfusion", "cpp", "css", "delphi"],
    ...["diff", "erlang", "groovy", "html/xml", "java", "javafx", "javascript", "perl", "php"],
    ...["powershell", "python", "ruby", "sass", "scala", "sql", "vb", "yaml"],
    ...["xml", "c#", "erl", "js", "jfx", "py", "text", "yml"],
  ]);

  it.each([
    ["ts", "none"],
    ["typescript", "none"],
    ["json", "none"],
    ["go", "none"],
    ["kotlin", "none"],
    ["rust", "none"],
    ["swift", "none"],
    ["dockerfile", "none"],
    ["graphql", "none"],
    ["toml", "none"],
    ["lua", "none"],
    ["r", "none"],
    ["haskell", "none"],
    ["markdown", "none"],
    ["js", "js"],
    ["sh", "bash"],
    ["html", "xml"],
    ["C#", "c#"],
    ["erlang", "erl"],
    ["yml", "yaml"],
    ["c", "cpp"],
    ["jsx", "js"],
    ["tsx", "none"],
    ["pascal", "delphi"],
    ["delphi", "delphi"],
    ["terraform", "none"],
    ["vb.net", "none"],
  ])("maps the info string %s to %s", (info, id) => {
    expect(confluenceLanguage(info, "datacenter")).toBe(id);
  });

  it("only ever gives ids Data Center knows, and keeps every such id Cloud would get", () => {
    for (const id of cloudLanguageIds()) {
      const onDataCenter = confluenceLanguage(id, "datacenter");
      expect([id, dataCenter.has(onDataCenter)]).toEqual([id, true]);
      if (dataCenter.has(id)) expect(onDataCenter).toBe(id);
    }
  });

  it("leaves Cloud's ids as they were by default", () => {
    for (const id of cloudLanguageIds()) expect(confluenceLanguage(id)).toBe(confluenceLanguage(id, "cloud"));
    expect(confluenceLanguage("ts")).toBe("typescript");
  });
});
