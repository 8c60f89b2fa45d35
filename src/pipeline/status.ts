// How far an ingest is, for a progress display: cores done of those found so far (the total is
// final once every input has been read), the cores being analyzed, the bytes read from the inputs.
export interface IngestStatus {
  done: number;
  total: number;
  /** False while inputs (an archive, stdin) are still being read: more cores may come. */
  totalKnown: boolean;
  current: string[];
  bytesRead: number;
}

export class StatusTracker {
  private readonly status: IngestStatus = { done: 0, total: 0, totalKnown: false, current: [], bytesRead: 0 };

  constructor(private readonly notify?: (status: Readonly<IngestStatus>) => void) {}

  found(): void {
    this.status.total += 1;
    this.changed();
  }

  allFound(): void {
    this.status.totalKnown = true;
    this.changed();
  }

  started(name: string): void {
    this.status.current.push(name);
    this.changed();
  }

  finished(name: string): void {
    this.status.current = this.status.current.filter((n) => n !== name);
    this.status.done += 1;
    this.changed();
  }

  read(bytes: number): void {
    this.status.bytesRead += bytes;
    this.changed();
  }

  private changed(): void {
    this.notify?.(this.status);
  }
}
