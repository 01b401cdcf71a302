/** `--html FILE`, shared by inspect and diff: the page written, and one line on stderr saying so. */
import type { InspectPicture } from '../analyze/picture/inspect-picture.js';
import type { DiffPicture } from '../analyze/picture/diff-picture.js';
import type { FleetPicture } from '../analyze/picture/fleet-picture.js';
import { writeFileAtomic } from '../util/safe-write.js';
import { humanBytes } from '../util/units.js';

export const htmlOptionText = 'also write the report as one self-contained HTML page (treemap, layers, findings) to FILE';

export async function writeHtmlReport(file: string, picture: InspectPicture | DiffPicture | FleetPicture): Promise<void> {
  const { renderHtml } = await import('../render/html.js');
  const html = renderHtml(picture);
  await writeFileAtomic(file, html);
  process.stderr.write(`strata: wrote ${file} (${humanBytes(Buffer.byteLength(html))})\n`);
}
