// The served report, rewritten after every ingest. Rewrites are coalesced: while one runs, any
// number of requests for another make exactly one more, so a burst of uploads does not queue a
// rewrite per upload, and no ingest is left out of the report.
import { writeReport } from '../report/render.js';
import type { Db } from '../store/db.js';
import { listDumps, loadDump } from '../store/dumps.js';

export class ReportRefresher {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    readonly outDir: string,
  ) {}

  /** Resolves once a rewrite that started after this call has finished. */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.write().finally(() => (this.running = null));
      return this.running;
    }
    this.next ??= this.running.catch(() => {}).then(() => {
      this.next = null;
      return this.refresh();
    });
    return this.next;
  }

  private async write(): Promise<void> {
    const dumps = listDumps(this.db).map((d) => loadDump(this.db, d.id));
    await writeReport(this.outDir, dumps);
  }
}
