/**
 * Text for XML and HTML (the JUnit report, the HTML report and its page script): the five special
 * characters escaped, and characters XML 1.0 cannot hold dropped (HTML forbids the same controls).
 */
export function escapeMarkup(s: string): string {
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
