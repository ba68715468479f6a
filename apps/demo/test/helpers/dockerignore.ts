// What a .dockerignore leaves out of a build context, by Docker's rules (moby/patternmatcher):
// patterns are relative to the context root; `*` and `?` stay within one path segment, `**`
// spans any number of them (none too); a later `!pattern` takes a path back in; a path is out
// when it or any directory above it matches. Enough to test the repository's own file.

/** A predicate: whether `path` (relative, `/`-separated) is left out of the context. */
export const dockerignoreMatcher = (text: string): ((path: string) => boolean) => {
  const rules = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const exception = line.startsWith("!");
      const pattern = (exception ? line.slice(1) : line).trim().replace(/^\/+/, "").replace(/\/+$/, "");
      return { exception, regex: patternRegex(pattern) };
    });
  const matches = (path: string): boolean => {
    let out = false;
    for (const rule of rules) if (rule.regex.test(path)) out = !rule.exception;
    return out;
  };
  return (path) => {
    const parts = path.split("/");
    // The path itself or a directory above it.
    return parts.some((_, i) => matches(parts.slice(0, i + 1).join("/")));
  };
};

// internal

const patternRegex = (pattern: string): RegExp => {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        source += "(?:.*/)?";
      } else source += ".*";
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
};
