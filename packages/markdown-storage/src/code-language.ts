// Maps fenced-code info strings to language identifiers the Confluence `code` macro accepts.
// Identifiers valid on both Cloud and Data Center are preferred (`js`, `xml`, `cpp`, `c#`); a few
// Cloud-only ones are used where DC has no equivalent, and only on Cloud: Data Center saves an
// unknown language but renders the macro as an error box (STORAGE-FORMAT.md §4.1), so there every id
// outside its built-in set becomes `none`. Unknown names map to `none` on both, because DC also
// defaults to Java highlighting when the parameter is missing.

const aliases: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["actionscript3", ["actionscript3", "actionscript", "as3"]],
  ["applescript", ["applescript", "osascript"]],
  ["bash", ["bash", "sh", "shell", "zsh", "ksh", "console", "shell-session", "shellsession", "terminal"]],
  ["c#", ["c#", "cs", "csharp"]],
  ["coldfusion", ["coldfusion", "cfm", "cfml"]],
  ["cpp", ["cpp", "c++", "cc", "cxx", "hpp", "hxx", "h++", "c", "h"]],
  ["css", ["css"]],
  ["delphi", ["delphi", "pascal", "pas", "objectpascal"]],
  ["diff", ["diff", "patch", "udiff"]],
  ["erl", ["erl", "erlang"]],
  ["groovy", ["groovy", "gradle"]],
  ["java", ["java"]],
  ["javafx", ["javafx", "jfx"]],
  ["js", ["js", "javascript", "node", "nodejs", "mjs", "cjs", "jsx", "ecmascript"]],
  ["perl", ["perl", "pl", "pm"]],
  ["php", ["php", "php3", "php4", "php5"]],
  ["powershell", ["powershell", "ps", "ps1", "pwsh", "psm1"]],
  ["python", ["python", "py", "python3", "py3", "gyp"]],
  ["ruby", ["ruby", "rb", "jruby", "rake", "gemspec"]],
  ["sass", ["sass", "scss", "less"]],
  ["scala", ["scala", "sc"]],
  ["sql", ["sql", "mysql", "pgsql", "postgresql", "postgres", "plsql", "tsql", "sqlite"]],
  ["vb", ["vb", "vba", "vbs", "vbscript", "visualbasic"]],
  ["xml", ["xml", "html", "xhtml", "htm", "svg", "xsd", "xsl", "xslt", "wsdl", "plist", "html/xml"]],
  ["yaml", ["yaml", "yml"]],
  ["go", ["go", "golang"]],
  ["json", ["json", "jsonc", "json5"]],
  ["kotlin", ["kotlin", "kt", "kts"]],
  ["rust", ["rust", "rs"]],
  ["swift", ["swift"]],
  ["typescript", ["typescript", "ts", "tsx", "mts", "cts"]],
  ["docker", ["docker", "dockerfile"]],
  ["graphql", ["graphql", "gql"]],
  ["toml", ["toml"]],
  ["lua", ["lua"]],
  ["r", ["r"]],
  ["haskell", ["haskell", "hs"]],
  ["markdown", ["markdown", "md"]],
  ["none", ["none", "text", "txt", "plain", "plaintext"]],
];

const table = new Map<string, string>(aliases.flatMap(([id, names]) => names.map((n) => [n, id] as const)));

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

/**
 * The Confluence `code` macro language for a fenced-code info string: the first word, lower-cased,
 * looked up in an alias table (`js` → `js`, `sh` → `bash`, `yml` → `yaml`, `c++` → `cpp`).
 * Unknown or missing languages give `none`; this never fails. For `datacenter`, languages only
 * Cloud knows (`go`, `json`, `typescript`, `kotlin`, …) give `none` too: the reference names no
 * Data Center id that highlights them, and an id Data Center does not know renders as an error box.
 */
export const confluenceLanguage = (
  info: string | undefined,
  deployment: "cloud" | "datacenter" = "cloud",
): string => {
  if (info === undefined) return "none";
  const word = info.trim().split(/[\s{]/, 1)[0]?.toLowerCase() ?? "";
  const name = word.startsWith("language-") ? word.slice("language-".length) : word;
  const id = table.get(name) ?? "none";
  return deployment === "datacenter" && !dataCenterIds.has(id) ? "none" : id;
};

/** Every id {@link confluenceLanguage} can return for Cloud (for tests and documentation). */
export const cloudLanguageIds = (): ReadonlyArray<string> => [...new Set(table.values())];
