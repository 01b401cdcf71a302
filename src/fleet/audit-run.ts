/**
 * The single-machine audit: every image once (a few at a time, sharing the scan workers), results
 * kept by image key so that a stopped run goes on where it was, a failed image reported with its
 * error while the others complete. What an image's audit is (open, read, report) is the caller's.
 */
import type { AuditEntry } from '../analyze/fleet/entry.js';
import type { AuditFailure } from '../analyze/fleet/fleet.js';

export interface AuditProgress {
  done: number;
  failed: number;
  total: number;
}

export interface AuditOutcome {
  entries: AuditEntry[];
  failed: AuditFailure[];
}

/** `auditOne` audits one reference (from its kept result or by reading it); `jobs` run at once. */
export async function auditAll(refs: string[], auditOne: (ref: string) => Promise<AuditEntry>, opts: { jobs: number; onProgress?: (p: AuditProgress) => void }): Promise<AuditOutcome> {
  const entries: AuditEntry[] = [];
  const failed: AuditFailure[] = [];
  let next = 0;
  const progress = () => opts.onProgress?.({ done: entries.length, failed: failed.length, total: refs.length });
  const lane = async () => {
    while (next < refs.length) {
      const ref = refs[next++];
      try {
        entries.push(await auditOne(ref));
      } catch (e) {
        failed.push({ ref, error: (e as Error).message, attempts: 1 });
      }
      progress();
    }
  };
  progress();
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, refs.length)) }, lane));
  return { entries, failed };
}
