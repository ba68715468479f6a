// URL policy for links and images: which destinations may be emitted and how they are encoded.
// Only script-capable schemes are refused (javascript:, vbscript:, data:); everything else is kept so
// relative links and uncommon but harmless schemes survive. Encoding follows micromark's own
// `normalizeUri`, which is not a direct dependency, so the CommonMark reference output still matches.

const dangerousSchemes = ["javascript:", "vbscript:", "data:"];

/**
 * Whether a URL uses a scheme that can run script (`javascript:`, `vbscript:`, `data:`), ignoring case,
 * whitespace and control characters that browsers skip inside the scheme.
 */
export const isDangerousUrl = (url: string): boolean => {
  let scheme = "";
  for (let i = 0; i < url.length && scheme.length < 12; i++) {
    const code = url.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) continue;
    scheme += url[i]?.toLowerCase();
    if (code === 58) break;
  }
  return dangerousSchemes.some((s) => scheme.startsWith(s));
};

const isAsciiAlphanumeric = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

const isUrlSafeAscii = (code: number): boolean =>
  code === 33 ||
  code === 35 ||
  code === 36 ||
  (code >= 38 && code <= 59) ||
  code === 61 ||
  (code >= 63 && code <= 90) ||
  code === 95 ||
  (code >= 97 && code <= 122) ||
  code === 126;

/** Percent-encodes characters that may not appear in a URL, keeping existing `%XX` escapes. */
export const normalizeUri = (value: string): string => {
  let out = "";
  let start = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    let replace = "";
    let skip = 0;
    if (
      code === 37 &&
      isAsciiAlphanumeric(value.charCodeAt(index + 1)) &&
      isAsciiAlphanumeric(value.charCodeAt(index + 2))
    ) {
      skip = 2;
    } else if (code < 128) {
      if (!isUrlSafeAscii(code)) replace = String.fromCharCode(code);
    } else if (code > 55_295 && code < 57_344) {
      const next = value.charCodeAt(index + 1);
      if (code < 56_320 && next > 56_319 && next < 57_344) {
        replace = String.fromCharCode(code, next);
        skip = 1;
      } else {
        replace = "\uFFFD";
      }
    } else {
      replace = String.fromCharCode(code);
    }
    if (replace) {
      out += value.slice(start, index) + encodeURIComponent(replace);
      start = index + skip + 1;
    }
    index += skip;
  }
  return start === 0 ? value : out + value.slice(start);
};

/** Whether an image source is a web URL (`http:`, `https:` or protocol-relative `//`) Confluence can load. */
export const isWebUrl = (url: string): boolean => url.startsWith("//") || /^https?:/i.test(url);

/**
 * The file name of an image path: the last path segment, without query or fragment, percent-decoded
 * when possible (`img/My%20Chart.png?x=1` → `My Chart.png`); `""` for a path ending in `/`.
 */
export const imageFileName = (path: string): string => {
  let end = path.length;
  for (const mark of ["?", "#"]) {
    const at = path.indexOf(mark);
    if (at !== -1 && at < end) end = at;
  }
  const clean = path.slice(0, end);
  const slash = Math.max(clean.lastIndexOf("/"), clean.lastIndexOf("\\"));
  const name = clean.slice(slash + 1);
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
};

/** micromark's label normalisation: collapse whitespace, trim, case-fold. */
export const normalizeIdentifier = (value: string): string =>
  value
    .replace(/[\t\n\r ]+/g, " ")
    .replace(/^ | $/g, "")
    .toLowerCase()
    .toUpperCase();
