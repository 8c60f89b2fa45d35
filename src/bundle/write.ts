// Writes a bundle: a tar.gz whose first entry is the manifest (how ingest recognises a bundle),
// then the core and the files. Each file keeps its own mtime: the core's is when it was taken,
// which ingest reads back as taken_at.
import { MANIFEST_NAME, type BundleManifest } from './manifest.js';
import type { PackFile } from './collect.js';
import { writeTarGz, type TarItem } from './tar-gz.js';

export async function writeBundle(manifest: BundleManifest, files: PackFile[], out: string): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
  const items: TarItem[] = [
    { header: { name: MANIFEST_NAME, size: body.length, mtime: new Date(manifest.created_at), mode: 0o644 }, body },
    ...files.map((f) => ({ header: { name: f.entry }, file: f.source })),
  ];
  await writeTarGz(out, items);
}
