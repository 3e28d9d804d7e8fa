/**
 * Text Labnet takes from outside and passes on (to Postgres, into files, logs, argv): no
 * control characters and well-formed Unicode. Postgres refuses NUL in `text` and `\u0000` or
 * a lone surrogate in `jsonb` (a 500 if it gets that far), a newline starts a line of its own
 * in every line-based format the executor writes, and an escape sequence rewrites a terminal.
 */

/** C0 controls, DEL and C1 controls (Unicode's `Cc`). */
const CONTROL = /\p{Cc}/u;
/** The same, but tab, line feed and carriage return are text. */
const CONTROL_BUT_LINES = /[^\P{Cc}\t\n\r]/u;
/** A high surrogate without its low half, or a low one without its high half (code units, no `u`). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** How one value may look: `multiline` text (a template's source) may hold tabs and line breaks. */
export interface TextRules {
  multiline?: boolean;
}

function codePoint(text: string, index: number): string {
  return `U+${(text.codePointAt(index) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Why `text` must not be taken, or undefined when it may: a control character (where, and
 * which) or invalid Unicode (a lone surrogate, which no UTF-8 encoder can write).
 *
 * @example textProblem("a\u0000b") // "must not contain control characters (U+0000 at index 1)"
 * @example textProblem("line 1\nline 2", { multiline: true }) // undefined
 */
export function textProblem(text: string, { multiline = false }: TextRules = {}): string | undefined {
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate) {
    return `is not valid Unicode (a lone surrogate ${codePoint(text, surrogate.index)} at index ${surrogate.index})`;
  }
  const control = (multiline ? CONTROL_BUT_LINES : CONTROL).exec(text);
  if (control) {
    return `must not contain control characters (${codePoint(text, control.index)} at index ${control.index})`;
  }
  return undefined;
}

/** True when {@link textProblem} has nothing against `text`. */
export function isCleanText(text: string, rules: TextRules = {}): boolean {
  return textProblem(text, rules) === undefined;
}
