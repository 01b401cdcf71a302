/** Download progress on a terminal: a bar per layer being fetched, and a total line; redrawn in place. */
import type { BlobProgress } from '../image/image.js';
import { humanBytes } from '../util/units.js';
import { terminalText } from '../util/terminal-text.js';

const BAR = 24;

function bar(done: number, total: number): string {
  const n = total > 0 ? Math.min(BAR, Math.round((done / total) * BAR)) : BAR;
  return `[${'#'.repeat(n)}${'.'.repeat(BAR - n)}]`;
}

export class ProgressBars {
  private blobs = new Map<string, BlobProgress>();
  private expected = 0;
  private expectedCount = 0;
  private drawn = 0;
  private last = 0;
  /** Redraws at most every 100 ms of `clock`, and when a blob completes. */
  constructor(private readonly out: NodeJS.WriteStream, private readonly clock: () => number = Date.now) {}

  /** The image's layer blobs, once known, so the total covers what has not started yet. */
  expect(layers: { blobSize?: number }[]): void {
    this.expected = layers.reduce((s, l) => s + (l.blobSize ?? 0), 0);
    this.expectedCount = layers.length;
  }

  update = (p: BlobProgress): void => {
    if (p.layer < 0) return; // the config: small, not worth a line
    this.blobs.set(p.digest, p);
    const now = this.clock();
    if (now - this.last < 100 && p.done < p.total) return;
    this.last = now;
    this.draw();
  };

  private draw(): void {
    const all = [...this.blobs.values()];
    const active = all.filter((b) => b.done < b.total).sort((a, b) => a.layer - b.layer);
    const done = all.reduce((s, b) => s + b.done, 0);
    const total = Math.max(this.expected, all.reduce((s, b) => s + b.total, 0));
    const lines = active.map((b) => `  layer ${String(b.layer).padStart(2)} ${b.digest.slice(7, 19)} ${bar(b.done, b.total)} ${humanBytes(b.done)} / ${humanBytes(b.total)}${b.cached ? ' (cache)' : ''}`);
    const finished = all.length - active.length;
    const count = Math.max(this.expectedCount, all.length);
    lines.push(`  total    ${' '.repeat(12)} ${bar(done, total)} ${humanBytes(done)} / ${humanBytes(total)}  (${finished}/${count} layers)`);
    // a digest is the manifest's text: escaped, as a line holding a newline would break the redraw
    this.out.write(this.clearSeq() + lines.map((l) => `${terminalText(l)}\x1b[K\n`).join(''));
    this.drawn = lines.length;
  }

  private clearSeq(): string {
    return this.drawn ? `\x1b[${this.drawn}A` : '';
  }

  /** Erase the bars (the command's output follows). */
  finish(): void {
    if (this.drawn) this.out.write(`${this.clearSeq()}\x1b[J`);
    this.drawn = 0;
  }
}
