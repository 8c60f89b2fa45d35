// The text views as a terminal shows them: lines wrapped to its width (a long line continues under
// itself, indented), and colour on a terminal only. Strings from the core reach here already made
// printable, so the only escape sequences in the output are the ones added here.

/** COLUMNS when set (0: no limit), else the terminal's width, else 100 (a pipe into less or a file). */
export function outputWidth(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean; columns?: number }): number {
  const given = env.COLUMNS !== undefined && /^\d+$/.test(env.COLUMNS.trim()) ? Number(env.COLUMNS) : null;
  if (given !== null) return given;
  return stream.isTTY && stream.columns ? stream.columns : 100;
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  return Boolean(stream.isTTY) && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}

const chars = (s: string): string[] => [...s];

/** A space between a number and its unit ("4.2 MB") is not a place to break. */
function keepsTogether(line: string[], space: number): boolean {
  return /\d$/.test(line[space - 1] ?? '') && /^(B|KB|MB|GB|TB)\b/.test(line.slice(space + 1, space + 4).join(''));
}

/** LINE cut into pieces of at most WIDTH characters, at spaces where it can; the pieces after the first indented 4 more than it. */
export function wrapLine(line: string, width: number): string[] {
  const all = chars(line);
  if (width <= 0 || all.length <= width) return [line];
  const indent = /^ */.exec(line)![0].length;
  const pad = ' '.repeat(Math.min(indent + 4, Math.floor(width / 2)));
  const out: string[] = [];
  let rest = all;
  let lead = '';
  while (lead.length + rest.length > width) {
    const room = width - lead.length;
    // The last space that leaves a non-empty piece, else a hard break.
    let cut = room;
    while (cut > 0 && !(rest[cut] === ' ' && !keepsTogether(rest, cut))) cut--;
    if (cut <= (out.length === 0 ? indent : 0)) cut = room;
    out.push(lead + rest.slice(0, cut).join('').trimEnd());
    rest = rest.slice(cut);
    while (rest[0] === ' ') rest = rest.slice(1);
    lead = pad;
  }
  if (rest.length) out.push(lead + rest.join(''));
  return out;
}

export function fitWidth(text: string, width: number): string {
  return text.split('\n').flatMap((l) => wrapLine(l, width)).join('\n');
}

const SGR = { reset: '\x1b[0m', bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', yellow: '\x1b[33m', blue: '\x1b[34m', cyan: '\x1b[36m', green: '\x1b[32m' };

const STATE_COLOUR: Record<string, string> = {
  'waiting-lock': SGR.red, 'waiting-gil': SGR.yellow, running: SGR.green, 'holding-gil': SGR.green, gc: SGR.yellow,
  'waiting-io': SGR.blue, sleeping: SGR.blue, idle: SGR.dim,
};

const VERDICT_COLOUR: Record<string, string> = { Crashed: SGR.red, Stuck: SGR.red, Big: SGR.yellow, Warning: SGR.yellow, Waiting: SGR.blue };

/** Severity, verdict, thread state, Python frames against native ones, on lines the text views wrote. */
export function colourize(text: string): string {
  let verdictSeen = false;
  return text.split('\n').map((line, i) => {
    // The verdict is the line under the title (which may have wrapped).
    const verdict = !verdictSeen && i <= 3 ? /^(Crashed|Stuck|Big|Warning|Waiting|No problem found):/.exec(line) : null;
    if (verdict) verdictSeen = true;
    if (verdict) return `${SGR.bold}${VERDICT_COLOUR[verdict[1]!] ?? SGR.green}${line}${SGR.reset}`;
    return line
      .replace(/^( *)\[(critical|warning|info)\]/, (_, sp: string, sev: string) =>
        `${sp}${sev === 'critical' ? SGR.red : sev === 'warning' ? SGR.yellow : SGR.blue}${SGR.bold}[${sev}]${SGR.reset}`)
      .replace(/^( *)(Thread \d+.*? {2})([a-z-]+)( {2})/, (_, sp: string, head: string, state: string, gap: string) =>
        `${sp}${SGR.bold}${head}${SGR.reset}${STATE_COLOUR[state] ?? ''}${state}${SGR.reset}${gap}`)
      .replace(/^( *)(File ".*", line \d+, in .*)$/, `$1${SGR.cyan}$2${SGR.reset}`)
      .replace(/^( *)(py .*)$/, `$1${SGR.cyan}$2${SGR.reset}`)
      .replace(/^( *)(#\d+ +0x[0-9a-f]+ .*|0x[0-9a-f]+ .*|… \d+ interpreter frames? .*)$/, `$1${SGR.dim}$2${SGR.reset}`);
  }).join('\n');
}

/** What a command prints to a terminal, or to a pipe: fitted to the width, coloured on a terminal. */
export function forTerminal(text: string, env: NodeJS.ProcessEnv = process.env, stream: { isTTY?: boolean; columns?: number } = process.stdout): string {
  const fitted = fitWidth(text, outputWidth(env, stream));
  return useColour(env, stream) ? colourize(fitted) : fitted;
}
