// Maps fenced-code info strings to language identifiers the Confluence `code` macro accepts, per
// deployment (STORAGE-FORMAT.md §4.1). Cloud gets the id from its own list (`c`, `jsx`, `pas`, `hcl`,
// …), spelled as the reference spells it. Data Center saves an unknown language but renders the macro
// as an error box, so there a language gets its nearest id from Data Center's built-in set (`c` →
// `cpp`, `jsx` → `js`, `pascal` → `delphi`) or `none`. Unknown names map to `none` on both, because
// DC also defaults to Java highlighting when the parameter is missing.

/** A Cloud id, the info strings that mean it, and the Data Center id when it differs and exists. */
type Language = readonly [cloud: string, names: ReadonlyArray<string>, dataCenter?: string];

const languages: ReadonlyArray<Language> = [
  ["abap", ["abap"]],
  ["actionscript3", ["actionscript3", "actionscript", "as3"]],
  ["ada", ["ada", "adb", "ads"]],
  ["applescript", ["applescript", "osascript"]],
  ["arduino", ["arduino", "ino"]],
  ["autoit", ["autoit", "au3"]],
  ["bash", ["bash", "sh", "shell", "zsh", "ksh", "console", "shell-session", "shellsession", "terminal"]],
  ["c", ["c", "h"], "cpp"],
  ["c#", ["c#", "cs", "csharp"]],
  ["clojure", ["clojure", "clj", "cljs", "cljc", "edn"]],
  ["coffeescript", ["coffeescript", "coffee"]],
  ["coldfusion", ["coldfusion", "cfm", "cfml"]],
  ["cpp", ["cpp", "c++", "cc", "cxx", "hpp", "hxx", "h++"]],
  ["css", ["css"]],
  ["cuda", ["cuda", "cu"]],
  ["d", ["d"]],
  ["dart", ["dart"]],
  ["diff", ["diff", "patch", "udiff"]],
  ["docker", ["docker", "dockerfile"]],
  ["elixir", ["elixir", "ex", "exs"]],
  ["erl", ["erl", "erlang"]],
  ["fortran", ["fortran", "f90", "f95", "f03", "f08", "f77"]],
  ["foxpro", ["foxpro", "vfp"]],
  ["go", ["go", "golang"]],
  ["graphql", ["graphql", "gql"]],
  ["groovy", ["groovy", "gradle"]],
  ["handlebars", ["handlebars", "hbs"]],
  ["haskell", ["haskell", "hs"]],
  ["haxe", ["haxe", "hx"]],
  ["hcl", ["hcl", "terraform", "tf", "tfvars"]],
  ["java", ["java"]],
  ["javafx", ["javafx", "jfx"]],
  ["js", ["js", "javascript", "node", "nodejs", "mjs", "cjs", "ecmascript"]],
  ["json", ["json", "jsonc", "json5"]],
  ["jsx", ["jsx"], "js"],
  ["julia", ["julia", "jl"]],
  ["kotlin", ["kotlin", "kt", "kts"]],
  ["livescript", ["livescript"]],
  ["lua", ["lua"]],
  ["markdown", ["markdown", "md"]],
  ["mathematica", ["mathematica", "wolfram", "wl"]],
  ["matlab", ["matlab"]],
  ["nginx", ["nginx", "nginxconf"]],
  ["objective-c", ["objective-c", "objectivec", "objc", "obj-c"]],
  ["objective-j", ["objective-j", "objectivej", "objj"]],
  ["ocaml", ["ocaml"]],
  ["octave", ["octave"]],
  ["pas", ["pas", "pascal", "delphi", "objectpascal", "dpr"], "delphi"],
  ["perl", ["perl", "pl", "pm"]],
  ["php", ["php", "php3", "php4", "php5"]],
  ["powershell", ["powershell", "ps", "ps1", "pwsh", "psm1"]],
  ["prolog", ["prolog"]],
  ["protobuf", ["protobuf", "proto", "proto3"]],
  ["puppet", ["puppet"]],
  ["python", ["python", "py", "python3", "py3", "gyp"]],
  ["qbs", ["qbs"]],
  ["r", ["r"]],
  ["racket", ["racket", "rkt"]],
  ["restructuredtext", ["restructuredtext", "rst", "rest"]],
  ["ruby", ["ruby", "rb", "jruby", "rake", "gemspec"]],
  ["rust", ["rust", "rs"]],
  ["sass", ["sass", "scss", "less"]],
  ["scala", ["scala", "sc"]],
  ["scheme", ["scheme", "scm"]],
  ["smalltalk", ["smalltalk"]],
  ["splunk-spl", ["splunk-spl", "splunk", "spl"]],
  ["sql", ["sql", "mysql", "pgsql", "postgresql", "postgres", "plsql", "tsql", "sqlite"]],
  ["standardml", ["standardml", "sml"]],
  ["swift", ["swift"]],
  ["tcl", ["tcl"]],
  ["tex", ["tex", "latex"]],
  ["toml", ["toml"]],
  ["tsx", ["tsx"]],
  ["typescript", ["typescript", "ts", "mts", "cts"]],
  ["vala", ["vala"]],
  ["vb", ["vb", "vba", "vbs", "vbscript", "visualbasic"]],
  ["vbnet", ["vbnet", "vb.net"]],
  ["verilog", ["verilog"]],
  ["vhdl", ["vhdl"]],
  ["xml", ["xml", "html", "xhtml", "htm", "svg", "xsd", "xsl", "xslt", "wsdl", "plist", "html/xml"]],
  ["xquery", ["xquery", "xq", "xqy"]],
  ["yaml", ["yaml", "yml"]],
  ["none", ["none", "text", "txt", "plain", "plaintext"]],
];

/**
 * The ids Data Center's code macro knows (7.x–9.x, STORAGE-FORMAT.md §4.1): its built-in languages
 * and the aliases the reference lists. `applescript` needs 6.0 and `yaml` 6.7, both older than 7.x.
 */
const dataCenterIds: ReadonlySet<string> = new Set([
  "none",
  "actionscript3",
  "applescript",
  "bash",
  "csharp",
  "coldfusion",
  "cpp",
  "css",
  "delphi",
  "diff",
  "erlang",
  "groovy",
  "html/xml",
  "java",
  "javafx",
  "javascript",
  "perl",
  "php",
  "powershell",
  "python",
  "ruby",
  "sass",
  "scala",
  "sql",
  "vb",
  "yaml",
  "xml",
  "c#",
  "erl",
  "js",
  "jfx",
  "py",
  "text",
  "yml",
]);

const cloudTable = new Map<string, string>(
  languages.flatMap(([id, names]) => names.map((n) => [n, id] as const)),
);

const dataCenterTable = new Map<string, string>(
  languages.flatMap(([id, names, dataCenter]) => {
    const dc = dataCenter ?? (dataCenterIds.has(id) ? id : "none");
    return names.map((n) => [n, dc] as const);
  }),
);

/**
 * The Confluence `code` macro language for a fenced-code info string: the first word, lower-cased,
 * looked up in an alias table (`js` → `js`, `sh` → `bash`, `yml` → `yaml`, `c++` → `cpp`,
 * `pascal` → `pas`, `terraform` → `hcl`). Unknown or missing languages give `none`; this never
 * fails. For `datacenter` the id comes from Data Center's own set: `c` → `cpp`, `jsx` → `js`,
 * `pascal` → `delphi`, and languages only Cloud knows (`go`, `json`, `typescript`, `hcl`, …) give
 * `none`: the reference names no Data Center id that highlights them, and an id Data Center does not
 * know renders as an error box.
 */
export const confluenceLanguage = (
  info: string | undefined,
  deployment: "cloud" | "datacenter" = "cloud",
): string => {
  if (info === undefined) return "none";
  const word = info.trim().split(/[\s{]/, 1)[0]?.toLowerCase() ?? "";
  const name = word.startsWith("language-") ? word.slice("language-".length) : word;
  return (deployment === "datacenter" ? dataCenterTable : cloudTable).get(name) ?? "none";
};

/** Every id {@link confluenceLanguage} can return for Cloud (for tests and documentation). */
export const cloudLanguageIds = (): ReadonlyArray<string> => languages.map(([id]) => id);
