// What a process ran, from its command line as stored: the script's file name, "-m module", "-c"
// or "-" (standard input), past the interpreter and its options; a command line that does not
// start with a Python interpreter (an entry-point script run by its shebang) is named by its first word.
import { basename } from '../base/file-name.js';

/** Words of a command line written as the store writes it (POSIX single quotes where needed). */
export function shellWords(cmdline: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cmdline)) !== null) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  return words;
}

/** Options of the interpreter that take an argument (in the same word or the next). */
const WITH_ARGUMENT = new Set(['W', 'X', 'Q']);

export function scriptOf(cmdline: string): string {
  const words = shellWords(cmdline);
  const first = words[0];
  if (first === undefined) return '?';
  if (!/^python[\d.]*[dmu]*$/.test(basename(first))) return basename(first);
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-' || !w.startsWith('-')) return w === '-' ? '-' : basename(w);
    if (w.startsWith('--')) continue;
    for (let j = 1; j < w.length; j++) {
      const c = w[j]!;
      if (c === 'c') return '-c';
      if (c === 'm') return `-m ${w.slice(j + 1) || (words[i + 1] ?? '?')}`;
      if (WITH_ARGUMENT.has(c)) {
        if (j === w.length - 1) i++;
        break;
      }
    }
  }
  return basename(first);
}
