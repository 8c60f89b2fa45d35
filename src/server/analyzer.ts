// The analysis queue: each whole upload is ingested (--jobs at a time), its spool file removed,
// the report rewritten, and only then is the upload marked done, so that a client that sees
// "done" finds its dumps in the report too.
import PQueue from 'p-queue';
import { CoronerError, errorLine } from '../base/errors.js';
import { ingest } from '../pipeline/ingest.js';
import type { Db } from '../store/db.js';
import type { ReportRefresher } from './report.js';
import type { Spool } from './spool.js';
import { settle, type Upload } from './uploads.js';

export interface AnalyzerOptions {
  jobs: number;
  timeoutMs: number;
  keepCores: string | null;
  maxUnpacked?: number;
  log: (line: string) => void;
}

export class Analyzer {
  private readonly queue: PQueue;
  private abandoned = false;

  constructor(
    private readonly db: Db,
    private readonly spool: Spool,
    private readonly report: ReportRefresher,
    private readonly opts: AnalyzerOptions,
  ) {
    this.queue = new PQueue({ concurrency: Math.max(1, opts.jobs) });
  }

  enqueue(upload: Upload, path: string): void {
    void this.queue.add(() => this.analyze(upload, path));
  }

  private async analyze(upload: Upload, path: string): Promise<void> {
    try {
      if (this.abandoned) throw new CoronerError('the server shut down before analyzing this upload; upload it again', 'abandoned');
      upload.status = 'running';
      // One upload is one ingest; the parallelism is across uploads, by the queue.
      const outcomes = await ingest(this.db, [path], {
        force: false, series: null, takenAt: null, jobs: 1, debuginfod: false, timeoutMs: this.opts.timeoutMs,
        // The spool file is the server's own copy, to keep (--keep-cores) or delete like any other.
        keepCores: this.opts.keepCores, ownInputs: true, maxUnpacked: this.opts.maxUnpacked,
      });
      await this.spool.remove(path);
      await this.report.refresh().catch((err: unknown) => this.opts.log(`report: not rewritten: ${errorLine(err)}`));
      settle(upload, outcomes, path);
    } catch (err) {
      await this.spool.remove(path);
      upload.status = 'failed';
      upload.error = errorLine(err);
    }
    const dumps = upload.dumps.length ? `, dumps ${upload.dumps.join(', ')}` : '';
    this.opts.log(`upload ${upload.id} (${upload.name}): ${upload.status}${dumps}${upload.error ? `: ${upload.error}` : ''}`);
  }

  /** Analyses already running finish; queued ones are marked failed and their files removed. */
  async shutdown(): Promise<void> {
    this.abandoned = true;
    await this.queue.onIdle();
  }
}
