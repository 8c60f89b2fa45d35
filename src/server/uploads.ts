// What the server knows of each upload, from the moment its body is whole on disk. Kept in memory:
// an upload's state matters while a client waits for it; the dumps themselves are in the database.
import { randomBytes } from 'node:crypto';
import type { IngestOutcome } from '../pipeline/ingest.js';

export type UploadStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Upload {
  id: string;
  name: string;
  bytes: number;
  receivedAt: string;
  status: UploadStatus;
  /** The dumps the upload holds (several for an archive), including those already stored before. */
  dumps: number[];
  /** Why the upload, or some cores in it, could not be analyzed. */
  error: string | null;
}

/** Finished uploads remembered at most, so that a server running for months does not grow forever. */
const KEEP_FINISHED = 10_000;

export class Uploads {
  private readonly byId = new Map<string, Upload>();

  /** An id nobody can guess, since it names the upload in URLs. */
  newId(): string {
    return randomBytes(12).toString('base64url');
  }

  add(id: string, name: string, bytes: number): Upload {
    const upload: Upload = { id, name, bytes, receivedAt: new Date().toISOString(), status: 'queued', dumps: [], error: null };
    this.byId.set(id, upload);
    this.forgetOldest();
    return upload;
  }

  get(id: string): Upload | undefined {
    return this.byId.get(id);
  }

  private forgetOldest(): void {
    if (this.byId.size <= KEEP_FINISHED) return;
    // Maps iterate in insertion order: the first finished one is the oldest.
    for (const [id, u] of this.byId) {
      if (u.status === 'done' || u.status === 'failed') {
        this.byId.delete(id);
        return;
      }
    }
  }
}

/**
 * The end state of an upload from the outcomes of its ingest: done when any dump came out of it.
 * Errors name the file as the client called it, not the spool path it has on the server.
 */
export function settle(upload: Upload, outcomes: IngestOutcome[], spoolPath: string): void {
  upload.dumps = [...new Set(outcomes.flatMap((o) => (o.status === 'failed' ? [] : [o.id])))];
  const errors = outcomes.flatMap((o) => (o.status === 'failed' ? [o.error.split(spoolPath).join(upload.name)] : []));
  if (outcomes.length === 0) errors.push('no core found in the upload');
  upload.error = errors.length ? errors.join('; ') : null;
  upload.status = upload.dumps.length > 0 ? 'done' : 'failed';
}

/** The public JSON of an upload (GET /api/cores/ID); fields may be added, never renamed. */
export function uploadJson(u: Upload, statusUrl: string) {
  return { id: u.id, status: u.status, status_url: statusUrl, name: u.name, bytes: u.bytes, received_at: u.receivedAt, dumps: u.dumps, error: u.error };
}
