// A size flag (--max-upload 8G, --max-unpacked 64G) read, or one line saying how to write it.
import { CoronerError } from '../base/errors.js';
import { parseSize } from '../base/units.js';

export function sizeArg(flag: string, value: string): number {
  const size = parseSize(value);
  if (!size) throw new CoronerError(`--${flag} ${value}: not a size; give e.g. 8G, 500M or 1048576`, 'usage');
  return size;
}
