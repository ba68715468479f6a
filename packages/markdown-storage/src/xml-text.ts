// XML text helpers shared by every handler: escaping, CDATA bodies and removal of characters that
// XML 1.0 forbids. Confluence parses storage with a strict XML reader, so one bad character rejects
// the whole page; sanitising the Markdown once up front is cheaper than checking every output piece.

const invalidXmlChars =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the forbidden control characters is the point.
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces every character that XML 1.0 does not allow (C0 controls other than tab, line feed and
 * carriage return, U+FFFE, U+FFFF and lone surrogates) with U+FFFD.
 */
export const sanitizeXmlChars = (value: string): string => value.replace(invalidXmlChars, "\uFFFD");

/** Escapes text for use in XML element content or a double-quoted attribute value. */
export const escapeXml = (value: string): string => {
  let out = "";
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    let entity: string | undefined;
    if (code === 38) entity = "&amp;";
    else if (code === 60) entity = "&lt;";
    else if (code === 62) entity = "&gt;";
    else if (code === 34) entity = "&quot;";
    if (entity !== undefined) {
      out += value.slice(start, i) + entity;
      start = i + 1;
    }
  }
  return start === 0 ? value : out + value.slice(start);
};

/**
 * Wraps raw text in a CDATA section; a `]]>` inside the text is split across two sections
 * (`]]]]><![CDATA[>`) so the reassembled text is unchanged. Gotcha: Data Center 8.0.x–8.2.x reject
 * the split form (`CDATA block has embedded`, CONFSERVER-82849, fixed in 8.3.0); the only known
 * workaround (`]] >`) changes the text, so it is left to an upgrade (see README, Data Center).
 */
export const cdata = (value: string): string => `<![CDATA[${value.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;
