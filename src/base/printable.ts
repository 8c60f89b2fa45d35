// Strings read from a core (thread, type, module and function names, locals' reprs, paths, command
// lines, archive entry names) made safe for a terminal: control characters shown escaped as
// Python's repr shows them, so a core cannot clear the screen, set the window title or forge lines.
// Text output only; JSON keeps the exact strings.

/** C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi/format controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escape(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** s with its control characters escaped as Python's repr would (\x1b, \n, \x9b, \u202e); other characters unchanged. */
export function printable(s: string): string {
  return s.replace(UNSAFE, escape);
}
