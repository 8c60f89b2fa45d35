// A thread's stack as Python prints a traceback: its Python frames outermost first (most recent call
// last), a run of one frame repeated folded as Python folds deep recursion, and the native frames
// under the innermost Python frame (pystack's --native-last); the eval-loop plumbing in between is
// only counted. Shared by the text view and the HTML view, and by "copy as text".
import type { NativeFrame, PythonFrame, Thread } from '../model/types.js';

/** Python shows a frame repeated this many times, then "[Previous line repeated N more times]". */
export const RECURSIVE_CUTOFF = 3;

export type TracebackItem =
  | { kind: 'frame'; frame: PythonFrame; /** its index in thread.pythonFrames (innermost 0) */ index: number }
  | { kind: 'repeated'; count: number };

export interface PythonFirstStack {
  /** Outermost first, folded like Python's traceback. */
  items: TracebackItem[];
  /** The native frames under the innermost Python frame, outermost first; all of them for a thread without Python frames. */
  nativeTail: NativeFrame[];
  /** The native frames not shown: the interpreter's own between and around the Python frames. */
  foldedNative: number;
}

const same = (a: PythonFrame, b: PythonFrame): boolean => a.file === b.file && a.line === b.line && a.function === b.function;

/** Frames given innermost first (as the model keeps them), returned outermost first with repeats folded. */
export function tracebackItems(frames: PythonFrame[]): TracebackItem[] {
  const items: TracebackItem[] = [];
  let run = 0;
  const flush = (): void => {
    if (run > RECURSIVE_CUTOFF) items.push({ kind: 'repeated', count: run - RECURSIVE_CUTOFF });
  };
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    const prev = frames[i + 1];
    if (prev && same(prev, f)) run++;
    else {
      flush();
      run = 1;
    }
    if (run <= RECURSIVE_CUTOFF) items.push({ kind: 'frame', frame: f, index: i });
  }
  flush();
  return items;
}

export function pythonFirst(t: Thread): PythonFirstStack {
  const innermost = t.pythonFrames[0];
  const below = innermost === undefined ? t.nativeFrames.length : Math.max(0, Math.min(innermost.nativeIndex, t.nativeFrames.length));
  const nativeTail = t.nativeFrames.slice(0, below).reverse();
  return { items: tracebackItems(t.pythonFrames), nativeTail, foldedNative: t.nativeFrames.length - nativeTail.length };
}

/** "[Previous line repeated 38 more times]", as Python words it. */
export function repeatedLine(count: number): string {
  return `[Previous line repeated ${count} more time${count > 1 ? 's' : ''}]`;
}

/** One item's lines as Python prints them, without the leading two spaces: 'File "x.py", line 3, in f' and its source line. */
export function tracebackEntry(item: TracebackItem): string[] {
  if (item.kind === 'repeated') return [repeatedLine(item.count)];
  const f = item.frame;
  return [`File "${f.file}", line ${f.line}, in ${f.function}`, ...(f.source ? [`  ${f.source}`] : [])];
}

/** The traceback a user pastes: exactly Python's format for these frames. */
export function tracebackText(frames: PythonFrame[]): string {
  return ['Traceback (most recent call last):', ...tracebackItems(frames).flatMap(tracebackEntry).map((l) => `  ${l}`)].join('\n');
}
