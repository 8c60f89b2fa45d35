// A tar.gz of cores, as CI jobs upload them (for the bench: `coroner ingest ARCHIVE --jobs N`).
// Entries are cores/NAME; a core named twice gets NAME.2, NAME.3, ... (the same core twice is
// then a duplicate for ingest to skip).
import { basename } from 'node:path';
import { writeTar, type TarItem } from '../../src/bundle/tar-gz.js';

export async function archiveOfCores(cores: string[], out: string, opts: { gzip?: boolean } = {}): Promise<string> {
  const used = new Map<string, number>();
  const items: TarItem[] = cores.map((core) => {
    const name = basename(core);
    const n = (used.get(name) ?? 0) + 1;
    used.set(name, n);
    return { header: { name: `cores/${n === 1 ? name : `${name}.${n}`}` }, file: core };
  });
  // Fast compression: cores are mostly zero pages, and the archive is made before any timing.
  await writeTar(out, items, { level: 1, gzip: opts.gzip ?? true });
  return out;
}
