// File names as the views say them: the last part of a path ("/srv/app/x.py" → "x.py"), and a
// frame's place in its file.
export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Where a frame is, as findings and stacks say it: "x.py:12 in fetch". */
export function frameAt(f: { file: string; line: number; function: string }): string {
  return `${basename(f.file)}:${f.line} in ${f.function}`;
}
