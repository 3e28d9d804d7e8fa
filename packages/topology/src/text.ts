/**
 * Text in pictures: names come from users, so every piece of text is cleaned of what XML
 * cannot hold and escaped where it is written; boxes are sized from a monospace font's
 * advance, so the layout knows how wide a line is without measuring glyphs.
 */

/** Font size of a box's lines, in px; titles are one px larger and bold. */
export const FONT_SIZE = 12;
export const TITLE_FONT_SIZE = 13;
/** Advance of one character of a monospace font, per px of font size (DejaVu Sans Mono: 0.602). */
const ADVANCE = 0.61;
/** Height of one line of text, in px. */
export const LINE_HEIGHT = 16;

/** Characters XML 1.0 cannot hold (C0 controls but tab, newline and return; lone surrogates; U+FFFE/F), and DEL. */
const NOT_IN_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The text with every character that XML cannot hold replaced by U+FFFD. */
export function cleanText(text: string): string {
  return text.replace(NOT_IN_XML, "\ufffd");
}

/** Text for XML character data or a quoted attribute value: cleaned, and `& < > " '` escaped. */
export function escapeXml(text: string): string {
  return cleanText(text).replace(/[&<>"']/g, (ch) => XML_ENTITIES[ch] ?? ch);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** At most `max` characters (code points), the last one `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join("")}…`;
}

/** Width in px of one line at `fontSize` (a CJK character counts twice). */
export function textWidth(text: string, fontSize = FONT_SIZE): number {
  let units = 0;
  for (const ch of text) {
    units += wide(ch) ? 2 : 1;
  }
  return units * fontSize * ADVANCE;
}

function wide(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    code >= 0x20000
  );
}
